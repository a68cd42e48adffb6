"""What EC2 Auto Scaling (and, later, OpsWorks and ECS capacity providers) asks of EC2
instances, without importing the EC2 service: look up a launch template, launch from it,
terminate, and read their state. `services/ec2` implements `InstanceFleet`; the composition
root hands it to `services/ec2autoscaling`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dockyard.core.scope import Scope


class FleetError(Exception):
    """EC2 refused a launch; `code` and `message` are EC2's (InvalidLaunchTemplateId.NotFound,
    InvalidSubnetID.NotFound, InsufficientInstanceCapacity, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def missing_template(template_id: str | None, template_name: str | None,
                     version: str | None = None) -> FleetError:  # fmt: skip
    """The error `InstanceFleet.template` raises for a template (or a version of it) that does
    not exist, in the words EC2 Auto Scaling answers it with (a `ValidationError`)."""
    prefix = "You must use a valid fully-formed launch template."
    if version is not None:
        return FleetError("ValidationError", f"{prefix} The specified launch template version, "
                          f"with version number {version}, does not exist.")  # fmt: skip
    if template_id:
        return FleetError("ValidationError", f"{prefix} The specified launch template, with "
                          f"template ID {template_id}, does not exist.")  # fmt: skip
    return FleetError("ValidationError", f"{prefix} The specified launch template, with "
                      f"template name {template_name}, does not exist.")  # fmt: skip


@dataclass(frozen=True, slots=True)
class TemplateVersion:
    """A launch template version as `InstanceFleet.template` resolves it."""

    template_id: str
    template_name: str
    version: int  # the number "$Default" / "$Latest" stood for
    instance_type: str | None = None
    image_id: str | None = None


@dataclass(frozen=True, slots=True)
class LaunchRequest:
    # The launch template, by id or by name, and its version ("$Default", "$Latest", "3").
    template_id: str | None = None
    template_name: str | None = None
    version: str = "$Default"
    subnet_id: str | None = None
    # Without a subnet: the zone to launch in (EC2's Placement.AvailabilityZone), in its
    # default subnet there.
    availability_zone: str | None = None
    instance_type: str | None = None  # an override of the template's
    count: int = 1
    tags: Mapping[str, str] = field(default_factory=dict)  # added to the template's


@dataclass(frozen=True, slots=True)
class InstanceStatus:
    instance_id: str
    state: str  # pending | running | stopping | stopped | shutting-down | terminated
    availability_zone: str
    subnet_id: str
    private_ip: str
    instance_type: str
    # Status checks: None while initializing, then whether both system and instance pass.
    healthy: bool | None
    launch_template_id: str | None = None
    launch_template_version: str | None = None
    launch_time: float = 0.0  # epoch seconds


class InstanceFleet(Protocol):
    def template(self, scope: Scope, template_id: str | None, template_name: str | None,
                 version: str) -> TemplateVersion:  # fmt: skip
        """The launch template of this id (or, without one, this name) at `version`
        ("$Default", "$Latest" or a number). Raises `missing_template(...)` when the template
        or that version does not exist (a version that is not one of those forms does not)."""
        ...

    async def launch(self, scope: Scope, request: LaunchRequest) -> list[str]:
        """Start `count` instances (committed before this returns); their ids. Raises
        FleetError."""
        ...

    async def terminate(self, scope: Scope, instance_ids: Sequence[str]) -> None:
        """Terminate these instances (unknown ids are ignored)."""
        ...

    def describe(self, scope: Scope, instance_ids: Sequence[str]) -> list[InstanceStatus]:
        """The instances of these ids that exist (terminated ones for a while, as EC2)."""
        ...

    def zones(self, scope: Scope, subnet_ids: Sequence[str]) -> Mapping[str, str]:
        """The availability zone of each of these subnets that exists."""
        ...
