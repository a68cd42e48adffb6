"""Secrets Manager's domain types: secrets, their versions and staging labels."""

from __future__ import annotations

import base64
import secrets
import string
from dataclasses import asdict, dataclass, field
from typing import Any

from dockyard.core.ids import arn
from dockyard.core.scope import Scope

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
PENDING = "AWSPENDING"
_SUFFIX_ALPHABET = string.ascii_letters + string.digits


def secret_arn(scope: Scope, name: str) -> str:
    """A new secret's ARN: its name and a random 6-character suffix, as AWS makes them."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(6))
    return arn("secretsmanager", scope.region, scope.account_id, f"secret:{name}-{suffix}")


@dataclass(slots=True)
class SecretVersion:
    version_id: str
    created: float
    stages: list[str] = field(default_factory=list)
    string: str | None = None
    binary: str | None = None  # base64 of the bytes
    last_accessed: float | None = None

    def same_value(self, text: str | None, data: bytes | None) -> bool:
        return self.string == text and self.binary == encode(data)

    def binary_bytes(self) -> bytes | None:
        return None if self.binary is None else base64.b64decode(self.binary)


def encode(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


@dataclass(slots=True)
class Secret:
    arn: str
    name: str
    account_id: str
    region: str
    created: float
    last_changed: float
    description: str | None = None
    kms_key_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    versions: list[SecretVersion] = field(default_factory=list)  # oldest first
    last_accessed: float | None = None
    deleted_at: float | None = None  # when DeleteSecret was called
    deletion_date: float | None = None  # when the secret goes for good

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def partial_arn(self) -> str:
        return self.arn[:-7]  # without the "-" and the 6 random characters

    def staged(self, stage: str) -> SecretVersion | None:
        return next((v for v in self.versions if stage in v.stages), None)

    def version(self, version_id: str) -> SecretVersion | None:
        return next((v for v in self.versions if v.version_id == version_id), None)

    def versions_to_stages(self) -> dict[str, list[str]]:
        return {v.version_id: list(v.stages) for v in self.versions if v.stages}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Secret:
        body = dict(data)
        body["versions"] = [SecretVersion(**v) for v in body.get("versions", [])]
        return cls(**body)
