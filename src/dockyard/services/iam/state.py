"""IAM's state for every account: in memory, written through to the store first.

Store kinds: `iam.user`, `iam.group`, `iam.role`, `iam.policy`, `iam.accesskey` (sealed at
rest: it holds secret access keys), `iam.instanceprofile`; keys are `<account>/<name or id>`.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from dockyard.core.clock import Clock
from dockyard.services.iam.errors import EntityAlreadyExists, NoSuchEntity
from dockyard.services.iam.model import (
    AccessKey,
    Group,
    InstanceProfile,
    ManagedPolicy,
    Role,
    User,
    from_dict,
    to_dict,
)
from dockyard.store.base import Delete, Put, Store

USER = "iam.user"
GROUP = "iam.group"
ROLE = "iam.role"
POLICY = "iam.policy"
ACCESS_KEY = "iam.accesskey"
INSTANCE_PROFILE = "iam.instanceprofile"
SEALED_KINDS = (ACCESS_KEY,)

ID_ALPHABET = string.ascii_uppercase + string.digits
T = TypeVar("T")


def new_id(prefix: str) -> str:
    """A unique id as IAM shapes them: AIDA (user), AROA (role), AGPA (group), ANPA
    (policy), AIPA (instance profile), AKIA (access key), then 17 characters (16 for keys)."""
    length = 16 if prefix == "AKIA" else 17
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


class Table(Generic[T]):
    """One kind of record per account, by name (case-insensitively unique, as IAM)."""

    def __init__(self, kind: str, label: str, build: Callable[[dict[str, Any]], T]) -> None:
        self.kind = kind
        self.label = label  # "user", "role": for IAM's messages
        self.build = build
        self.rows: dict[str, dict[str, T]] = {}

    def key(self, account_id: str, name: str) -> str:
        return f"{account_id}/{name.lower()}"

    def find(self, account_id: str, name: str) -> T | None:
        return self.rows.get(account_id, {}).get(name.lower())

    def get(self, account_id: str, name: str) -> T:
        found = self.find(account_id, name)
        if found is None:
            raise NoSuchEntity(f"The {self.label} with name {name} cannot be found.")
        return found

    def absent(self, account_id: str, name: str, what: str | None = None) -> None:
        if self.find(account_id, name) is not None:
            raise EntityAlreadyExists(
                f"{what or self.label.capitalize()} with name {name} already exists."
            )

    def all(self, account_id: str) -> list[T]:
        return list(self.rows.get(account_id, {}).values())

    def put(self, account_id: str, name: str, record: T) -> Put:
        return (self.kind, self.key(account_id, name), to_dict(record))

    def remember(self, account_id: str, name: str, record: T) -> None:
        self.rows.setdefault(account_id, {})[name.lower()] = record

    def forget(self, account_id: str, name: str) -> None:
        self.rows.get(account_id, {}).pop(name.lower(), None)


def _policy(body: dict[str, Any]) -> ManagedPolicy:
    return ManagedPolicy.load(body)


class IamState:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.users: Table[User] = Table(USER, "user", lambda b: from_dict(User, b))
        self.groups: Table[Group] = Table(GROUP, "group", lambda b: from_dict(Group, b))
        self.roles: Table[Role] = Table(ROLE, "role", lambda b: from_dict(Role, b))
        self.policies: Table[ManagedPolicy] = Table(POLICY, "policy", _policy)
        self.keys: Table[AccessKey] = Table(
            ACCESS_KEY, "access key", lambda b: from_dict(AccessKey, b)
        )
        self.profiles: Table[InstanceProfile] = Table(
            INSTANCE_PROFILE, "instance profile", lambda b: from_dict(InstanceProfile, b)
        )
        self.key_index: dict[str, AccessKey] = {}  # access key id -> key

    def tables(self) -> list[Table[Any]]:
        return [self.users, self.groups, self.roles, self.policies, self.keys, self.profiles]

    def load(self) -> None:
        self.reset()
        for table in self.tables():
            for key, body in self.store.load(table.kind):
                account, _, name = key.partition("/")
                table.rows.setdefault(account, {})[name] = table.build(body)
        for rows in self.keys.rows.values():
            for k in rows.values():
                self.key_index[k.key_id] = k

    def reset(self) -> None:
        for table in self.tables():
            table.rows.clear()
        self.key_index.clear()

    def commit(
        self,
        puts: Sequence[tuple[Table[Any], str, str, Any]] = (),
        deletes: Sequence[tuple[Table[Any], str, str]] = (),
    ) -> None:
        """Write the records in one transaction, then apply them to memory."""
        writes: list[Put] = [t.put(a, n, r) for t, a, n, r in puts]
        gone: list[Delete] = [(t.kind, t.key(a, n)) for t, a, n in deletes]
        self.store.write(writes, gone)
        for t, a, n in deletes:
            record = t.find(a, n)
            t.forget(a, n)
            if isinstance(record, AccessKey):
                self.key_index.pop(record.key_id, None)
        for t, a, n, r in puts:
            t.remember(a, n, r)
            if isinstance(r, AccessKey):
                self.key_index[r.key_id] = r
