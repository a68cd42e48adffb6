"""Launch templates and versions as EC2's output shapes, and the fields their Describe*
filter on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dockyard.services.ec2.filters import tag_fields, text
from dockyard.services.ec2.tags import to_wire
from dockyard.services.ec2.templates.model import LaunchTemplate, TemplateVersion

TEMPLATE_FILTERS = ("create-time", "launch-template-name")
VERSION_FILTERS = (
    "create-time",
    "ebs-optimized",
    "iam-instance-profile",
    "image-id",
    "instance-type",
    "is-default-version",
    "kernel-id",
    "ram-disk-id",
)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def template(t: LaunchTemplate) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LaunchTemplateId": t.id,
        "LaunchTemplateName": t.name,
        "CreateTime": t.created,
        "CreatedBy": t.created_by,
        "DefaultVersionNumber": t.default_version,
        "LatestVersionNumber": t.latest_version,
    }
    if t.tags:
        out["Tags"] = to_wire(t.tags)
    return out


def version(t: LaunchTemplate, v: TemplateVersion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "LaunchTemplateId": t.id,
        "LaunchTemplateName": t.name,
        "VersionNumber": v.number,
        "CreateTime": v.created,
        "CreatedBy": v.created_by,
        "DefaultVersion": v.number == t.default_version,
        "LaunchTemplateData": v.data,
    }
    if v.description is not None:
        out["VersionDescription"] = v.description
    return out


def template_fields(t: LaunchTemplate) -> dict[str, list[str]]:
    return {
        "create-time": [iso(t.created)],
        "launch-template-name": [t.name],
        **tag_fields(t.tags),
    }


def version_fields(t: LaunchTemplate, v: TemplateVersion) -> dict[str, list[str]]:
    data = v.data
    profile = data.get("IamInstanceProfile") or {}
    return {
        "create-time": [iso(v.created)],
        "ebs-optimized": [text(data.get("EbsOptimized"))] if "EbsOptimized" in data else [],
        "iam-instance-profile": [
            str(x) for x in (profile.get("Arn"), profile.get("Name")) if x is not None
        ],
        "image-id": [str(data["ImageId"])] if data.get("ImageId") else [],
        "instance-type": [str(data["InstanceType"])] if data.get("InstanceType") else [],
        "is-default-version": [text(v.number == t.default_version)],
        "kernel-id": [str(data["KernelId"])] if data.get("KernelId") else [],
        "ram-disk-id": [str(data["RamDiskId"])] if data.get("RamDiskId") else [],
    }
