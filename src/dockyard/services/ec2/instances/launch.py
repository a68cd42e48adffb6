"""What a RunInstances call asks for, checked in EC2's order: the counts, then the launch
template (its data under the request's own parameters), the image, the instance type, the
metadata options, the subnet (the default VPC's default subnet when none is named) and the
security groups (the VPC's default group when none are named)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2.errors import invalid, missing
from dockyard.services.ec2.images.images import Images
from dockyard.services.ec2.instances import profiles as profiling
from dockyard.services.ec2.instances.profiles import InstanceProfiles
from dockyard.services.ec2.network.groups import SecurityGroups
from dockyard.services.ec2.network.model import SecurityGroup, Subnet
from dockyard.services.ec2.network.state import default_vpc_id
from dockyard.services.ec2.network.vpcs import Vpcs
from dockyard.services.ec2.templates import references
from dockyard.services.ec2.templates.templates import MAX_USER_DATA, LaunchTemplates

MAX_COUNT = 1000
DEFAULT_TYPE = "m1.small"  # EC2's when neither the request nor the template names one
# The members of RunInstances that a launch template's data also has (the request wins).
OVERRIDES = (
    "ImageId",
    "InstanceType",
    "KeyName",
    "UserData",
    "SubnetId",
    "SecurityGroupIds",
    "SecurityGroups",
    "NetworkInterfaces",
    "IamInstanceProfile",
    "MetadataOptions",
    "Placement",
    "TagSpecifications",
)
METADATA_DEFAULTS: dict[str, Any] = {
    "HttpTokens": "optional",
    "HttpPutResponseHopLimit": 1,
    "HttpEndpoint": "enabled",
    "HttpProtocolIpv6": "disabled",
    "InstanceMetadataTags": "disabled",
}
METADATA_CHOICES = {
    "HttpTokens": ("optional", "required"),
    "HttpEndpoint": ("enabled", "disabled"),
    "HttpProtocolIpv6": ("enabled", "disabled"),
    "InstanceMetadataTags": ("enabled", "disabled"),
}


@dataclass(slots=True)
class Launch:
    """A checked launch: everything the instances of one reservation share."""

    count: int
    image_id: str
    instance_type: str
    subnet: Subnet
    groups: list[SecurityGroup]
    metadata: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)  # the merged parameters
    template_id: str | None = None
    template_version: str | None = None
    profile_arn: str | None = None
    profile_id: str | None = None
    # Tags the launching service adds, unchecked (EC2 Auto Scaling's `aws:autoscaling:...`).
    extra_tags: dict[str, str] = field(default_factory=dict)


def counts(p: Mapping[str, Any]) -> tuple[int, int]:
    low, high = p.get("MinCount"), p.get("MaxCount")
    if low is None:
        raise missing("MinCount")
    if high is None:
        raise missing("MaxCount")
    low, high = int(low), int(high)
    if low < 1:
        raise invalid("minCount", low, "Must be at least 1")
    if high < low:
        raise invalid("maxCount", high, "Must be at least minCount")
    if low > MAX_COUNT:
        raise ServiceError(
            f"You have requested more instances ({low}) than your current instance limit "
            f"of {MAX_COUNT} allows.",
            code="InstanceLimitExceeded",
        )
    return low, min(high, MAX_COUNT)


def metadata_options(given: Mapping[str, Any] | None, base: Mapping[str, Any]) -> dict[str, Any]:
    """MetadataOptions over `base`, each member checked (hop limit 1-64)."""
    out = dict(base)
    for key, value in (given or {}).items():
        if key in METADATA_CHOICES:
            if value not in METADATA_CHOICES[key]:
                raise invalid(key, value, f"Valid values: {', '.join(METADATA_CHOICES[key])}")
            out[key] = value
        elif key == "HttpPutResponseHopLimit":
            if not 1 <= int(value) <= 64:
                raise invalid("HttpPutResponseHopLimit", value, "Must be 1 to 64")
            out[key] = int(value)
    return out


def checked_user_data(value: object) -> str | None:
    if value is None:
        return None
    try:
        raw = base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ServiceError(
            "Invalid BASE64 encoding of user data (UserData).", code="InvalidUserData.Malformed"
        ) from exc
    if len(raw) > MAX_USER_DATA:
        raise ServiceError(
            f"User data is limited to {MAX_USER_DATA} bytes (UserData).",
            code="InvalidUserData.Malformed",
        )
    return str(value)


def merged(
    scope: Scope, p: Mapping[str, Any], templates: LaunchTemplates
) -> tuple[dict[str, Any], str | None, str | None]:
    """The request's parameters over its launch template's data (if it names one)."""
    spec = p.get("LaunchTemplate")
    data: dict[str, Any] = {}
    template_id = version = None
    if spec:
        template, found = templates.resolve(
            scope, spec.get("LaunchTemplateId"), spec.get("LaunchTemplateName"), spec.get("Version")
        )
        data = dict(found.data)
        template_id, version = template.id, str(found.number)
    for key in OVERRIDES:
        if p.get(key) not in (None, [], {}):
            data[key] = p[key]
    return data, template_id, version


def checked(
    scope: Scope,
    p: Mapping[str, Any],
    templates: LaunchTemplates,
    images: Images,
    vpcs: Vpcs,
    groups: SecurityGroups,
    profiles: InstanceProfiles | None = None,
) -> Launch:
    low, high = counts(p)
    data, template_id, version = merged(scope, p, templates)
    image = references.image(scope, data, images)
    metadata = metadata_options(data.get("MetadataOptions"), METADATA_DEFAULTS)
    checked_user_data(data.get("UserData"))
    profile_arn, profile_id = profiling.checked(profiles, scope.account_id,
                                                data.get("IamInstanceProfile"))  # fmt: skip
    interfaces = references.checked(scope, data, vpcs, groups)
    if len(interfaces) > 1:
        raise ServiceError(
            "Dockyard instances have one network interface (NetworkInterfaces).",
            code="InvalidParameterValue",
        )
    subnet, found = interfaces[0]
    zone = (data.get("Placement") or {}).get("AvailabilityZone")
    if subnet is None:
        subnet = _default_subnet(scope, vpcs, zone)
    elif zone and zone != subnet.zone:
        raise invalid("Placement.AvailabilityZone", zone, f"Subnet {subnet.id} is in {subnet.zone}")
    if not found:
        found = [g for g in groups.records.all(scope, SecurityGroup) if g.vpc_id == subnet.vpc_id]
        found = [g for g in found if g.is_default][:1]
    if subnet.available < low:
        raise ServiceError(
            f"There are not enough free addresses in subnet '{subnet.id}' to satisfy the "
            "requested number of instances.",
            code="InsufficientFreeAddressesInSubnet",
        )
    return Launch(
        count=min(high, subnet.available),
        image_id=image.image_id,
        instance_type=str(data.get("InstanceType") or DEFAULT_TYPE),
        subnet=subnet,
        groups=found,
        metadata=metadata,
        data=data,
        template_id=template_id,
        template_version=version,
        profile_arn=profile_arn,
        profile_id=profile_id,
    )


def _default_subnet(scope: Scope, vpcs: Vpcs, zone: str | None) -> Subnet:
    vpc_id = default_vpc_id(vpcs.records, scope)
    if vpc_id is None:
        raise ServiceError(
            "No default VPC for this user. GroupName is only supported for EC2-Classic and "
            "default VPC.",
            code="VPCIdNotSpecified",
        )
    chosen = [s for s in vpcs.subnets_of(scope, vpc_id) if s.default_for_az]
    if zone:
        chosen = [s for s in chosen if s.zone == zone]
        if not chosen:
            raise invalid("Placement.AvailabilityZone", zone, "No default subnet in that zone")
    chosen = [s for s in chosen if s.available > 0] or chosen
    if not chosen:
        raise ServiceError(
            f"No default subnet for availability zone: '{zone or 'any'}'.",
            code="MissingInput",
        )
    return sorted(chosen, key=lambda s: s.zone)[0]
