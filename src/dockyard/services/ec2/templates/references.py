"""The records a launch template's data names, checked when an instance is launched from it
(EC2 stores template data without checking them): the image must exist (`resolve:ssm:` of a
public parameter too), each subnet and security group must exist, the groups must be in the
VPC of the subnet, and instance-level security groups do not go with network interfaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.core.errors import ServiceError
from dockyard.core.images import BuiltinImage
from dockyard.core.scope import Scope
from dockyard.services.ec2.errors import InvalidParameterCombination, missing
from dockyard.services.ec2.images.images import Images
from dockyard.services.ec2.network.groups import SecurityGroups
from dockyard.services.ec2.network.model import SecurityGroup, Subnet
from dockyard.services.ec2.network.vpcs import Vpcs
from dockyard.services.ec2.templates import aliases


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def checked(
    scope: Scope, data: Mapping[str, Any], vpcs: Vpcs, groups: SecurityGroups
) -> list[tuple[Subnet | None, list[SecurityGroup]]]:
    """Each network interface of `data` (or the instance itself when it names none) as the
    subnet and security groups it names; raises the error EC2 answers at launch."""
    interfaces = [i for i in data.get("NetworkInterfaces") or [] if isinstance(i, Mapping)]
    top_ids = _strings(data.get("SecurityGroupIds"))
    top_names = _strings(data.get("SecurityGroups"))
    if interfaces and (top_ids or top_names):
        raise InvalidParameterCombination(
            "Network interfaces and an instance-level security groups may not be specified on "
            "the same request"
        )
    specs = (
        [(i.get("SubnetId"), _strings(i.get("Groups")), []) for i in interfaces]
        if interfaces
        else [(data.get("SubnetId"), top_ids, top_names)]
    )
    out: list[tuple[Subnet | None, list[SecurityGroup]]] = []
    for subnet_id, group_ids, group_names in specs:
        subnet = vpcs.subnet(scope, str(subnet_id)) if subnet_id else None
        found = [groups.get(scope, g) for g in group_ids]
        found += [groups.named(scope, n) for n in group_names]
        if subnet is not None:
            for group in found:
                if group.vpc_id != subnet.vpc_id:
                    raise ServiceError(
                        f"Security group {group.id} and subnet {subnet.id} belong to "
                        "different networks.",
                        code="InvalidParameter",
                    )
        out.append((subnet, found))
    return out


def image(scope: Scope, data: Mapping[str, Any], images: Images) -> BuiltinImage:
    """The image a launch boots: `ImageId`, or the one its `resolve:ssm:` names."""
    given = data.get("ImageId")
    if not given:
        raise missing("ImageId")
    return images.get(scope, aliases.image_id(scope.region, str(given)))
