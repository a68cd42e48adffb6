"""EC2 as EC2 Auto Scaling sees it (`core.fleet.InstanceFleet`): launch template versions
resolved, launches made as RunInstances makes them (the same checks, in the same order; the
group's subnet or zone and instance type over the template's; its tags, reserved `aws:`
ones too, added to the template's), terminations, and the instances' states and status checks."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.core.errors import ServiceError
from dockyard.core.fleet import (
    FleetError,
    InstanceStatus,
    LaunchRequest,
    TemplateVersion,
    missing_template,
)
from dockyard.core.scope import Scope
from dockyard.services.ec2.instances import launch as launching
from dockyard.services.ec2.instances.model import Instance
from dockyard.services.ec2.network.model import Subnet
from dockyard.services.ec2.service import Ec2

NOT_FOUND = ("InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException")
VERSION_NOT_FOUND = "InvalidLaunchTemplateId.VersionNotFound"


def _fleet_error(exc: ServiceError) -> FleetError:
    return FleetError(exc.code, exc.message)


class Ec2Fleet:
    def __init__(self, ec2: Ec2) -> None:
        self.ec2 = ec2

    def template(self, scope: Scope, template_id: str | None, template_name: str | None,
                 version: str) -> TemplateVersion:  # fmt: skip
        templates = self.ec2.templates
        try:
            # By id when there is one (EC2 Auto Scaling gives both once it has resolved them).
            template = templates.get(scope, template_id, None if template_id else template_name)
        except ServiceError as exc:
            if exc.code in NOT_FOUND:
                raise missing_template(template_id, template_name) from exc
            raise _fleet_error(exc) from exc
        try:
            found = templates.version_of(template, version)
        except ServiceError as exc:
            if exc.code == VERSION_NOT_FOUND:
                raise missing_template(template.id, template.name, version) from exc
            raise _fleet_error(exc) from exc
        data = found.data
        return TemplateVersion(
            template_id=template.id,
            template_name=template.name,
            version=found.number,
            instance_type=data.get("InstanceType"),
            image_id=data.get("ImageId"),
        )

    def _params(self, scope: Scope, request: LaunchRequest) -> dict[str, Any]:
        """The RunInstances parameters of a launch: the group's choices over the template."""
        spec: dict[str, Any] = {"Version": request.version}
        if request.template_id:
            spec["LaunchTemplateId"] = request.template_id
        else:
            spec["LaunchTemplateName"] = request.template_name
        name = None if request.template_id else request.template_name
        _, found = self.ec2.templates.resolve(scope, request.template_id, name, request.version)
        data = found.data
        p: dict[str, Any] = {
            "LaunchTemplate": spec,
            "MinCount": request.count,
            "MaxCount": request.count,
        }
        if request.instance_type:
            p["InstanceType"] = request.instance_type
        if request.subnet_id:
            interfaces = copy.deepcopy(data.get("NetworkInterfaces") or [])
            if interfaces:  # the group's subnet goes on the template's primary interface
                interfaces[0]["SubnetId"] = request.subnet_id
                p["NetworkInterfaces"] = interfaces
            else:
                p["SubnetId"] = request.subnet_id
        elif request.availability_zone:
            p["Placement"] = {**(data.get("Placement") or {}),
                              "AvailabilityZone": request.availability_zone}  # fmt: skip
        return p

    async def launch(self, scope: Scope, request: LaunchRequest) -> list[str]:
        ec2 = self.ec2
        if ec2.no_runtime is not None:
            raise FleetError("UnsupportedOperation", f"this server has no host runtime: "
                             f"{ec2.no_runtime}")  # fmt: skip
        try:
            ec2.ensure_defaults(scope)
            p = self._params(scope, request)
            checked = launching.checked(
                scope, p, ec2.templates, ec2.images, ec2.vpcs, ec2.groups, ec2.profiles
            )
            # The group's tags (its `aws:autoscaling:groupName` too) over the template's.
            checked.extra_tags = dict(request.tags)
            made = ec2.instances.launch(scope, checked)
        except ServiceError as exc:
            raise _fleet_error(exc) from exc
        return [i.id for i in made]

    async def terminate(self, scope: Scope, instance_ids: Sequence[str]) -> None:
        known = [self.ec2.records.find(scope, i, Instance) for i in dict.fromkeys(instance_ids)]
        chosen = [i for i in known if i is not None]
        if chosen:
            self.ec2.instances.terminate(scope, chosen)

    def describe(self, scope: Scope, instance_ids: Sequence[str]) -> list[InstanceStatus]:
        instances = self.ec2.instances
        out: list[InstanceStatus] = []
        for instance_id in instance_ids:
            i = self.ec2.records.find(scope, instance_id, Instance)
            if i is None:
                continue
            out.append(
                InstanceStatus(
                    instance_id=i.id,
                    state=i.state.value,
                    availability_zone=i.zone,
                    subnet_id=i.subnet_id,
                    private_ip=i.private_ip,
                    instance_type=i.instance_type,
                    healthy=instances.checks_pass(i),
                    launch_template_id=i.template_id,
                    launch_template_version=i.template_version,
                    launch_time=i.launch_time,
                )
            )
        return out

    def zones(self, scope: Scope, subnet_ids: Sequence[str]) -> Mapping[str, str]:
        self.ec2.ensure_defaults(scope)
        out: dict[str, str] = {}
        for subnet_id in subnet_ids:
            subnet = self.ec2.records.find(scope, subnet_id, Subnet)
            if subnet is not None:
                out[subnet_id] = subnet.zone
        return out
