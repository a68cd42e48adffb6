"""Secrets of every account and region: in memory, written through to the store. Secrets
scheduled for deletion go for good once their recovery window has passed."""

from __future__ import annotations

import logging

from dockyard.core.clock import Clock
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.secretsmanager import validation
from dockyard.services.secretsmanager.errors import (
    MARKED_FOR_DELETION,
    SECRET_NOT_FOUND,
    InvalidRequestException,
    ResourceExistsException,
    ResourceNotFoundException,
)
from dockyard.services.secretsmanager.model import (
    CURRENT,
    PREVIOUS,
    Secret,
    SecretVersion,
    encode,
    secret_arn,
)
from dockyard.store.base import Store
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

KIND = "secretsmanager.secret"
DAY = 24 * 3600.0


def day_of(seconds: float) -> float:
    """Midnight (UTC) of the day: Secrets Manager keeps access dates to the day."""
    return seconds - seconds % DAY


class Vault:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.by_arn: dict[str, Secret] = {}

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(KIND):
            self.by_arn[key] = Secret.from_dict(body)
        self.purge()

    def reset(self) -> None:
        self.by_arn.clear()

    def save(self, secret: Secret) -> None:
        put_record(self.store, KIND, secret.arn, secret, Secret.from_dict)
        self.by_arn[secret.arn] = secret

    def remove(self, secret: Secret) -> None:
        self.store.delete(KIND, secret.arn)
        self.by_arn.pop(secret.arn, None)
        log.info("secretsmanager: deleted secret %s", secret.name, extra={"arn": secret.arn})

    def purge(self) -> None:
        """Delete for good the secrets whose recovery window has passed."""
        now = self.clock.now()
        for secret in list(self.by_arn.values()):
            if secret.deletion_date is not None and secret.deletion_date <= now:
                self.remove(secret)

    # Lookup

    def all(self, scope: Scope) -> list[Secret]:
        self.purge()
        return [s for s in self.by_arn.values() if s.scope == scope]

    def find(self, scope: Scope, secret_id: str) -> Secret | None:
        """A secret by name, ARN or partial ARN (the ARN without its random suffix)."""
        self.purge()
        secret = self.by_arn.get(secret_id)
        if secret is not None:
            return secret if secret.scope == scope else None
        for secret in self.by_arn.values():
            if secret.scope == scope and secret_id in (secret.name, secret.partial_arn):
                return secret
        return None

    def get(self, scope: Scope, secret_id: str, *, live: bool = False) -> Secret:
        """The secret; with `live`, one not scheduled for deletion."""
        secret = self.find(scope, secret_id)
        if secret is None:
            raise ResourceNotFoundException(SECRET_NOT_FOUND)
        if live and secret.deleted_at is not None:
            raise InvalidRequestException(MARKED_FOR_DELETION)
        return secret

    def read(self, secret: Secret, version_id: str | None, stage: str | None) -> SecretVersion:
        """The version GetSecretValue answers (AWSCURRENT by default); records the access."""
        if secret.deleted_at is not None:
            raise InvalidRequestException(MARKED_FOR_DELETION)
        version = secret.version(version_id) if version_id else secret.staged(stage or CURRENT)
        if version is not None and version_id and stage and stage not in version.stages:
            version = None
        if version is None:
            which = (
                f"VersionId: {version_id}" if version_id else f"staging label: {stage or CURRENT}"
            )
            raise ResourceNotFoundException(
                f"Secrets Manager can't find the specified secret value for {which}"
            )
        today = day_of(self.clock.now())
        if secret.last_accessed != today or version.last_accessed != today:
            secret.last_accessed = version.last_accessed = today
            self.save(secret)
        return version

    # Changes

    def create(
        self,
        scope: Scope,
        name: str,
        *,
        token: str | None,
        text: str | None,
        data: bytes | None,
        description: str | None,
        kms_key_id: str | None,
        tags: dict[str, str],
    ) -> tuple[Secret, SecretVersion | None]:
        existing = self.find(scope, name)
        if existing is not None and existing.name == name:
            if existing.deleted_at is not None:
                raise InvalidRequestException(
                    "You can't create this secret because a secret with this name is already "
                    "scheduled for deletion."
                )
            same = existing.version(token) if token else None
            if same is not None and same.same_value(text, data):
                return existing, same  # a retried CreateSecret
            raise ResourceExistsException(
                f"The operation failed because the secret {name} already exists."
            )
        now = self.clock.now()
        secret = Secret(
            arn=secret_arn(scope, name),
            name=name,
            account_id=scope.account_id,
            region=scope.region,
            created=now,
            last_changed=now,
            description=description,
            kms_key_id=kms_key_id,
            tags=tags,
        )
        version = None
        if text is not None or data is not None:
            version = self._add_version(secret, token, text, data, [CURRENT])
        self.save(secret)
        log.info("secretsmanager: created secret %s", name, extra={"arn": secret.arn})
        return secret, version

    def put_value(
        self,
        secret: Secret,
        token: str | None,
        text: str | None,
        data: bytes | None,
        stages: list[str] | None = None,
    ) -> SecretVersion:
        if secret.deleted_at is not None:
            raise InvalidRequestException(MARKED_FOR_DELETION)
        if token and (same := secret.version(token)) is not None:
            if same.same_value(text, data):
                return same
            raise ResourceExistsException(
                "You can't modify an existing version, you can only create a new version."
            )
        version = self._add_version(secret, token, text, data, stages or [CURRENT])
        secret.last_changed = self.clock.now()
        self.save(secret)
        return version

    def _add_version(
        self,
        secret: Secret,
        token: str | None,
        text: str | None,
        data: bytes | None,
        stages: list[str],
    ) -> SecretVersion:
        version = SecretVersion(
            version_id=token or new_uuid(),
            created=self.clock.now(),
            string=text,
            binary=encode(data),
        )
        if CURRENT in stages:
            old = secret.staged(CURRENT)
            for v in secret.versions:
                if PREVIOUS in v.stages:
                    v.stages.remove(PREVIOUS)
            if old is not None:
                old.stages.append(PREVIOUS)
        for stage in stages:
            for v in secret.versions:
                if stage in v.stages:
                    v.stages.remove(stage)
        version.stages = list(stages)
        secret.versions.append(version)
        while len(secret.versions) > validation.MAX_VERSIONS:
            oldest = next((v for v in secret.versions if not v.stages), None)
            if oldest is None:
                break
            secret.versions.remove(oldest)
        return version

    def schedule_deletion(self, secret: Secret, window_days: int | None) -> float:
        """Delete at once (None) or after the recovery window; the deletion date."""
        now = self.clock.now()
        if window_days is None:
            self.remove(secret)
            return now
        if secret.deleted_at is not None:
            raise InvalidRequestException(MARKED_FOR_DELETION)
        secret.deleted_at = now
        secret.deletion_date = now + window_days * DAY
        self.save(secret)
        return secret.deletion_date

    def restore(self, secret: Secret) -> None:
        secret.deleted_at = secret.deletion_date = None
        self.save(secret)
