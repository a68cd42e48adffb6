"""A launch template as stored: one record (kind `ec2.launch-template`) holding its versions.

Each version keeps its `LaunchTemplateData` as the request gave it (the members of EC2's
`RequestLaunchTemplateData`, user data in base64 as given), which is also what
`DescribeLaunchTemplateVersions` answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from dockyard.services.ec2.network.model import Resource


class VersionAlias(StrEnum):
    LATEST = "$Latest"
    DEFAULT = "$Default"


@dataclass(slots=True)
class TemplateVersion:
    number: int
    data: dict[str, Any]
    created: float  # epoch seconds
    created_by: str  # the caller's ARN
    description: str | None = None


@dataclass(slots=True)
class LaunchTemplate(Resource):
    KIND: ClassVar[str] = "ec2.launch-template"
    name: str = ""
    created: float = 0.0
    created_by: str = ""
    default_version: int = 1
    next_version: int = 2  # numbers are never reused, even after a version is deleted
    versions: list[TemplateVersion] = field(default_factory=list)  # oldest first
    client_token: str | None = None

    @property
    def latest_version(self) -> int:
        return max(v.number for v in self.versions)

    def version(self, number: int) -> TemplateVersion | None:
        return next((v for v in self.versions if v.number == number), None)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> LaunchTemplate:
        versions = [TemplateVersion(**v) for v in body.get("versions", [])]
        return cls(**{**body, "versions": versions})
