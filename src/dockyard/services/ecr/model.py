"""ECR's records: repositories, images (a manifest with its tags) and layer links."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from dockyard.core.scope import Scope

REPOSITORY_KIND = "ecr.repository"
IMAGE_KIND = "ecr.image"
LAYER_KIND = "ecr.layer"


class TagMutability(enum.StrEnum):
    MUTABLE = "MUTABLE"
    IMMUTABLE = "IMMUTABLE"


class EncryptionType(enum.StrEnum):
    AES256 = "AES256"
    KMS = "KMS"


class TagStatus(enum.StrEnum):
    TAGGED = "TAGGED"
    UNTAGGED = "UNTAGGED"
    ANY = "ANY"


@dataclass(slots=True)
class Repository:
    account_id: str
    region: str
    name: str
    created_at: float
    tag_mutability: TagMutability = TagMutability.MUTABLE
    scan_on_push: bool = False
    encryption_type: EncryptionType = EncryptionType.AES256
    kms_key: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    policy: str | None = None  # repository policy text (JSON)
    lifecycle_policy: str | None = None
    lifecycle_evaluated_at: float | None = None

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def arn(self) -> str:
        return f"arn:aws:ecr:{self.region}:{self.account_id}:repository/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "region": self.region,
            "name": self.name,
            "createdAt": self.created_at,
            "tagMutability": str(self.tag_mutability),
            "scanOnPush": self.scan_on_push,
            "encryptionType": str(self.encryption_type),
            "kmsKey": self.kms_key,
            "tags": dict(self.tags),
            "policy": self.policy,
            "lifecyclePolicy": self.lifecycle_policy,
            "lifecycleEvaluatedAt": self.lifecycle_evaluated_at,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Repository:
        return cls(
            account_id=body["accountId"],
            region=body["region"],
            name=body["name"],
            created_at=float(body["createdAt"]),
            tag_mutability=TagMutability(body.get("tagMutability", "MUTABLE")),
            scan_on_push=bool(body.get("scanOnPush", False)),
            encryption_type=EncryptionType(body.get("encryptionType", "AES256")),
            kms_key=body.get("kmsKey"),
            tags=dict(body.get("tags") or {}),
            policy=body.get("policy"),
            lifecycle_policy=body.get("lifecyclePolicy"),
            lifecycle_evaluated_at=body.get("lifecycleEvaluatedAt"),
        )


@dataclass(slots=True)
class Image:
    """One manifest of a repository, by digest, with the tags that point at it."""

    repository_arn: str
    digest: str
    manifest: str  # the manifest bytes as pushed (UTF-8 JSON), byte for byte
    media_type: str
    pushed_at: float
    size: int  # what ECR reports as imageSizeInBytes: the layers' compressed sizes
    references: list[str]  # blobs (config, layers) or child manifests this one names
    artifact_media_type: str | None = None
    tags: list[str] = field(default_factory=list)
    last_pull: float | None = None

    @property
    def key(self) -> str:
        return f"{self.repository_arn}@{self.digest}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "repositoryArn": self.repository_arn,
            "digest": self.digest,
            "manifest": self.manifest,
            "mediaType": self.media_type,
            "pushedAt": self.pushed_at,
            "size": self.size,
            "references": list(self.references),
            "artifactMediaType": self.artifact_media_type,
            "tags": list(self.tags),
            "lastPull": self.last_pull,
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Image:
        return cls(
            repository_arn=body["repositoryArn"],
            digest=body["digest"],
            manifest=body["manifest"],
            media_type=body["mediaType"],
            pushed_at=float(body["pushedAt"]),
            size=int(body["size"]),
            references=list(body.get("references") or []),
            artifact_media_type=body.get("artifactMediaType"),
            tags=list(body.get("tags") or []),
            last_pull=body.get("lastPull"),
        )


def layer_key(repository_arn: str, digest: str) -> str:
    return f"{repository_arn}|{digest}"
