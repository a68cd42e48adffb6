"""Parameter Store's domain types: parameters and their versions, and their ARNs."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from dockyard.core.ids import arn
from dockyard.core.scope import Scope

DEFAULT_KEY_ID = "alias/aws/ssm"


class ParameterType(enum.StrEnum):
    STRING = "String"
    STRING_LIST = "StringList"
    SECURE_STRING = "SecureString"


class Tier(enum.StrEnum):
    STANDARD = "Standard"
    ADVANCED = "Advanced"
    INTELLIGENT_TIERING = "Intelligent-Tiering"


def parameter_arn(scope: Scope, name: str) -> str:
    """`parameter/name` for a plain name, `parameter/a/b` for the path `/a/b`."""
    resource = f"parameter{name}" if name.startswith("/") else f"parameter/{name}"
    return arn("ssm", scope.region, scope.account_id, resource)


@dataclass(slots=True)
class Version:
    version: int
    value: str
    type: str
    modified: float  # epoch seconds
    modified_user: str
    tier: str = Tier.STANDARD
    data_type: str = "text"
    description: str | None = None
    allowed_pattern: str | None = None
    key_id: str | None = None  # SecureString only
    ciphertext: str | None = None  # what a SecureString shows without WithDecryption
    labels: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Parameter:
    name: str
    account_id: str
    region: str
    versions: list[Version] = field(default_factory=list)  # oldest first
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def arn(self) -> str:
        return parameter_arn(self.scope, self.name)

    @property
    def current(self) -> Version:
        return self.versions[-1]

    def version(self, number: int) -> Version | None:
        return next((v for v in self.versions if v.version == number), None)

    def labelled(self, label: str) -> Version | None:
        return next((v for v in self.versions if label in v.labels), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Parameter:
        body = dict(data)
        body["versions"] = [Version(**v) for v in body.get("versions", [])]
        return cls(**body)
