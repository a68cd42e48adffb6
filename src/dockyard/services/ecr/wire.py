"""Records as ECR's output shapes."""

from __future__ import annotations

from dockyard.api.provider import Result
from dockyard.services.ecr.model import Image, Repository


def repository(repo: Repository, uri: str) -> Result:
    encryption: Result = {"encryptionType": str(repo.encryption_type)}
    if repo.kms_key:
        encryption["kmsKey"] = repo.kms_key
    return {
        "repositoryArn": repo.arn,
        "registryId": repo.account_id,
        "repositoryName": repo.name,
        "repositoryUri": uri,
        "createdAt": repo.created_at,
        "imageTagMutability": str(repo.tag_mutability),
        "imageScanningConfiguration": {"scanOnPush": repo.scan_on_push},
        "encryptionConfiguration": encryption,
    }


def image_detail(repo: Repository, image: Image) -> Result:
    out: Result = {
        "registryId": repo.account_id,
        "repositoryName": repo.name,
        "imageDigest": image.digest,
        "imageSizeInBytes": image.size,
        "imagePushedAt": image.pushed_at,
        "imageManifestMediaType": image.media_type,
    }
    if image.tags:
        out["imageTags"] = list(image.tags)
    if image.artifact_media_type:
        out["artifactMediaType"] = image.artifact_media_type
    if image.last_pull is not None:
        out["lastRecordedPullTime"] = image.last_pull
    return out


def image_id(image: Image, tag: str | None = None) -> Result:
    out: Result = {"imageDigest": image.digest}
    if tag:
        out["imageTag"] = tag
    return out


def tags(values: dict[str, str]) -> list[Result]:
    return [{"Key": k, "Value": v} for k, v in sorted(values.items())]
