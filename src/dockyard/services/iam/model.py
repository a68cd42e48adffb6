"""IAM's records: users, groups, roles, managed policies, access keys, instance profiles.

IAM is global: records are per account (no region); ARNs are
`arn:aws:iam::<acct>:<type>/<path><name>`.
Policy documents are kept as the text the user sent (IAM answers them URL-encoded).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")


class KeyStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


def to_dict(record: object) -> dict[str, Any]:
    return dataclasses.asdict(record)  # type: ignore[call-overload, no-any-return]


def from_dict(cls: type[T], body: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in body.items() if k in names})


def iam_arn(account_id: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:{kind}{path}{name}"


@dataclass(slots=True)
class Attachable:
    """What users, groups and roles share: inline and attached managed policies."""

    account_id: str
    name: str
    path: str
    id: str
    created: float
    inline: dict[str, str] = field(default_factory=dict)  # policy name -> document
    attached: list[str] = field(default_factory=list)  # managed policy ARNs
    tags: dict[str, str] = field(default_factory=dict)
    boundary: str | None = None  # the permissions boundary's managed policy ARN


@dataclass(slots=True)
class User(Attachable):
    @property
    def arn(self) -> str:
        return iam_arn(self.account_id, "user", self.path, self.name)


@dataclass(slots=True)
class Group(Attachable):
    members: list[str] = field(default_factory=list)  # user names

    @property
    def arn(self) -> str:
        return iam_arn(self.account_id, "group", self.path, self.name)


@dataclass(slots=True)
class Role(Attachable):
    trust: str = ""
    description: str | None = None
    max_session_duration: int = 3600
    last_used: float | None = None

    @property
    def arn(self) -> str:
        return iam_arn(self.account_id, "role", self.path, self.name)


@dataclass(slots=True)
class PolicyVersion:
    version_id: str  # v1, v2, ...
    document: str
    created: float


@dataclass(slots=True)
class ManagedPolicy:
    account_id: str  # "aws" for AWS managed policies
    name: str
    path: str
    id: str
    created: float
    updated: float
    default_version: str = "v1"
    versions: list[PolicyVersion] = field(default_factory=list)
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    next_version: int = 2

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:policy{self.path}{self.name}"

    @property
    def document(self) -> str:
        return next(v.document for v in self.versions if v.version_id == self.default_version)

    @classmethod
    def load(cls, body: dict[str, Any]) -> ManagedPolicy:
        policy = from_dict(cls, body)
        policy.versions = [
            v if isinstance(v, PolicyVersion) else from_dict(PolicyVersion, v)
            for v in policy.versions
        ]
        return policy


@dataclass(slots=True)
class AccessKey:
    account_id: str
    user_name: str
    key_id: str  # AKIA...
    secret: str
    status: str
    created: float
    last_used: float | None = None
    last_service: str | None = None


@dataclass(slots=True)
class InstanceProfile:
    account_id: str
    name: str
    path: str
    id: str
    created: float
    roles: list[str] = field(default_factory=list)  # role names (at most one)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return iam_arn(self.account_id, "instance-profile", self.path, self.name)
