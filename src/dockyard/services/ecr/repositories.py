"""Repositories of every account and region: in memory, written through to the store."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable

from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.ecr.errors import (
    InvalidParameterException,
    InvalidTagParameterException,
    RepositoryAlreadyExistsException,
    TooManyTagsException,
    repository_not_found,
)
from dockyard.services.ecr.model import (
    REPOSITORY_KIND,
    EncryptionType,
    Repository,
    TagMutability,
)
from dockyard.store.base import Store

MAX_TAGS = 50
MAX_POLICY_BYTES = 10240
SEPARATORS = "._-"


def valid_name(name: str) -> bool:
    """ECR's repository name rule, checked without a regex: `/`-separated components of
    lower-case letters and digits, joined inside a component by single `.`, `_` or `-`."""
    if not 2 <= len(name) <= 256:
        return False
    for component in name.split("/"):
        if not component or component[0] in SEPARATORS or component[-1] in SEPARATORS:
            return False
        previous_separator = False
        for ch in component:
            if ch in SEPARATORS:
                if previous_separator:
                    return False
                previous_separator = True
            elif ch.isascii() and (ch.islower() or ch.isdigit()):
                previous_separator = False
            else:
                return False
    return True


def check_name(name: str) -> None:
    if not valid_name(name):
        raise InvalidParameterException(
            f"Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must "
            f"satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+"
            f"(?:[._-][a-z0-9]+)*'' (value: {name!r})"
        )


def check_policy_text(text: str, field: str = "policyText") -> None:
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise InvalidParameterException(f"Invalid parameter at '{field}': policy too large")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InvalidParameterException(
            f"Invalid parameter at '{field}' failed to satisfy constraint: 'Invalid repository "
            "policy provided'"
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), list | dict):
        raise InvalidParameterException(
            f"Invalid parameter at '{field}' failed to satisfy constraint: 'Invalid repository "
            "policy provided'"
        )


def merged_tags(current: dict[str, str], tags: Iterable[tuple[str, str]]) -> dict[str, str]:
    result = dict(current)
    for key, value in tags:
        if not key or len(key) > 128 or key.startswith("aws:") or len(value) > 256:
            raise InvalidTagParameterException(f"Invalid tag key or value: {key!r}")
        result[key] = value
    if len(result) > MAX_TAGS:
        raise TooManyTagsException(f"A repository can have at most {MAX_TAGS} tags")
    return result


@dataclasses.dataclass(slots=True)
class CreateRepositoryRequest:
    name: str
    tag_mutability: TagMutability = TagMutability.MUTABLE
    scan_on_push: bool = False
    encryption_type: EncryptionType = EncryptionType.AES256
    kms_key: str | None = None
    tags: list[tuple[str, str]] = dataclasses.field(default_factory=list)


class Repositories:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.by_scope: dict[Scope, dict[str, Repository]] = {}

    def load(self) -> None:
        self.reset()
        for _key, body in self.store.load(REPOSITORY_KIND):
            repo = Repository.from_dict(body)
            self.by_scope.setdefault(repo.scope, {})[repo.name] = repo

    def reset(self) -> None:
        self.by_scope.clear()

    def save(self, repo: Repository) -> None:
        self.store.put(REPOSITORY_KIND, repo.arn, repo.to_dict())
        self.by_scope.setdefault(repo.scope, {})[repo.name] = repo

    def forget(self, repo: Repository) -> None:
        self.by_scope.get(repo.scope, {}).pop(repo.name, None)

    def all(self, scope: Scope) -> list[Repository]:
        return sorted(self.by_scope.get(scope, {}).values(), key=lambda r: r.name)

    def every(self) -> list[Repository]:
        return [r for repos in self.by_scope.values() for r in repos.values()]

    def find(self, scope: Scope, name: str) -> Repository | None:
        return self.by_scope.get(scope, {}).get(name)

    def get(self, scope: Scope, name: str) -> Repository:
        repo = self.find(scope, name)
        if repo is None:
            raise repository_not_found(name, scope.account_id)
        return repo

    def by_arn(self, arn: str) -> Repository | None:
        parts = arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("repository/"):
            return None
        return self.find(Scope(parts[4], parts[3]), parts[5].removeprefix("repository/"))

    def create(self, scope: Scope, request: CreateRepositoryRequest) -> Repository:
        check_name(request.name)
        if request.encryption_type != EncryptionType.KMS and request.kms_key:
            raise InvalidParameterException(
                "Invalid parameter at 'encryptionConfiguration': kmsKey is only for KMS"
            )
        if self.find(scope, request.name) is not None:
            raise RepositoryAlreadyExistsException(
                f"The repository with name '{request.name}' already exists in the registry "
                f"with id '{scope.account_id}'"
            )
        repo = Repository(
            account_id=scope.account_id,
            region=scope.region,
            name=request.name,
            created_at=self.clock.now(),
            tag_mutability=request.tag_mutability,
            scan_on_push=request.scan_on_push,
            encryption_type=request.encryption_type,
            kms_key=request.kms_key,
            tags=merged_tags({}, request.tags),
        )
        self.save(repo)
        return repo

    def update(self, repo: Repository, **changes: object) -> Repository:
        updated = dataclasses.replace(repo, **changes)  # type: ignore[arg-type]
        self.save(updated)
        return updated
