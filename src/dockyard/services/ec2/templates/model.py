"""A launch template as stored: the template (kind `ec2.launch-template`: its name, tags,
default version and the numbers of its versions) and each version as a record of its own
(kind `ec2.launch-template-version`), so adding a version writes only that version.

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


def version_id(template_id: str, number: int) -> str:
    """A version record's key: not an EC2 id (versions cannot be tagged or named by id)."""
    return f"{template_id.removeprefix('lt-')}.v{number}"


@dataclass(slots=True)
class TemplateVersion(Resource):
    KIND: ClassVar[str] = "ec2.launch-template-version"
    template_id: str = ""
    number: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0  # epoch seconds
    created_by: str = ""  # the caller's ARN
    description: str | None = None

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> TemplateVersion:
        return cls(**body)


@dataclass(slots=True)
class LaunchTemplate(Resource):
    KIND: ClassVar[str] = "ec2.launch-template"
    name: str = ""
    created: float = 0.0
    created_by: str = ""
    default_version: int = 1
    next_version: int = 2  # numbers are never reused, even after a version is deleted
    numbers: list[int] = field(default_factory=list)  # of the versions that exist, ascending
    client_token: str | None = None

    @property
    def latest_version(self) -> int:
        return self.numbers[-1]

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> LaunchTemplate:
        return cls(**body)
