"""Secrets for ECS tasks, wired: the `SecretSource` port answered by SSM Parameter Store and
Secrets Manager. Lives beside server.py because ECS and those services may not import each
other."""

from __future__ import annotations

import contextlib
import json

from dockyard.core.errors import ServiceError
from dockyard.core.rolecredentials import RolePermissions
from dockyard.core.scope import Scope
from dockyard.core.secrets import (
    ParameterRef,
    SecretUnavailable,
    parse_value_from,
    store_of,
)
from dockyard.services.secretsmanager import SecretsManager
from dockyard.services.ssm import Ssm


def _foreign(account_id: str, value_from: str, owner: str | None) -> str | None:
    """Why a task of `account_id` may not read a reference owned by `owner`, or None."""
    if not owner or owner == account_id:
        return None
    return (
        f"AccessDeniedException: a task of account {account_id} may not read {value_from}, "
        f"which belongs to account {owner}"
    )


class ServedSecrets:
    """Reads `valueFrom` references from this server's Parameter Store and Secrets Manager,
    only those of the task's own account: a reference into another account does not resolve
    (there are no resource policies here to grant it)."""

    def __init__(
        self,
        ssm: Ssm,
        secretsmanager: SecretsManager,
        permissions: RolePermissions | None = None,
    ) -> None:
        self.ssm = ssm
        self.secretsmanager = secretsmanager
        # What a task's execution role may read (None: no policies are enforced).
        self.permissions = permissions

    def _as_role(
        self, role: tuple[str, str] | None, account_id: str, action: str, resource: str
    ) -> str | None:
        """AWS's AccessDeniedException text when the execution role `role` (its ARN and
        session name) may not perform `action` on `resource`."""
        if role is None or self.permissions is None:
            return None
        message = self.permissions.denial(account_id, role[0], role[1], action, resource)
        return None if message is None else f"AccessDeniedException: {message}"

    def resolve(
        self,
        account_id: str,
        region: str,
        value_from: str,
        *,
        role: tuple[str, str] | None = None,
    ) -> str:
        try:
            ref = parse_value_from(value_from)
        except ValueError as exc:
            raise SecretUnavailable(store_of(value_from), value_from, str(exc)) from exc
        if isinstance(ref, ParameterRef):
            refused = _foreign(account_id, value_from, ref.account_id)
            if refused is not None:
                raise SecretUnavailable("ssm", value_from, refused)
            path = ref.name if ref.name.startswith("/") else f"/{ref.name}"
            resource = f"arn:aws:ssm:{ref.region or region}:{account_id}:parameter{path}"
            refused = self._as_role(role, account_id, "ssm:GetParameters", resource)
            if refused is not None:
                raise SecretUnavailable("ssm", value_from, refused)
            value = self.ssm.value(
                ref.account_id or account_id,
                ref.region or region,
                value_from if value_from.startswith("arn:") else ref.name,
            )
            if value is None:
                raise SecretUnavailable("ssm", value_from, f"invalid ssm parameters: {ref.name}")
            return value
        parts = ref.secret_id.split(":")
        refused = _foreign(account_id, value_from, parts[4])
        if refused is not None:
            raise SecretUnavailable(
                "asm", value_from, f"failed to fetch secret {ref.secret_id} from secrets "
                f"manager: {refused}",
            )  # fmt: skip
        resource = ref.secret_id
        with contextlib.suppress(ServiceError):  # the full ARN, with its random suffix
            scope = Scope(parts[4] or account_id, parts[3] or region)
            resource = self.secretsmanager.vault.get(scope, ref.secret_id).arn
        refused = self._as_role(role, account_id, "secretsmanager:GetSecretValue", resource)
        if refused is not None:
            raise SecretUnavailable(
                "asm", value_from, f"failed to fetch secret {ref.secret_id} from secrets "
                f"manager: {refused}",
            )  # fmt: skip
        try:
            raw = self.secretsmanager.value(
                parts[4] or account_id,
                parts[3] or region,
                ref.secret_id,
                version_stage=ref.version_stage,
                version_id=ref.version_id,
            )
        except ServiceError as exc:
            raise SecretUnavailable(
                "asm",
                value_from,
                f"failed to fetch secret {ref.secret_id} from secrets manager: "
                f"{exc.code}: {exc.message}",
            ) from exc
        if isinstance(raw, bytes):
            raise SecretUnavailable(
                "asm",
                value_from,
                f"secret {ref.secret_id} holds a SecretBinary, which cannot be an environment "
                "variable",
            )
        if ref.json_key is None:
            return raw
        try:
            document = json.loads(raw)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise SecretUnavailable(
                "asm",
                value_from,
                f"failed to unmarshal secret {ref.secret_id} as JSON to read json key "
                f"{ref.json_key}",
            )
        if ref.json_key not in document:
            raise SecretUnavailable(
                "asm",
                value_from,
                f"retrieved secret from Secrets Manager did not contain json key {ref.json_key}",
            )
        value = document[ref.json_key]
        return value if isinstance(value, str) else json.dumps(value)
