"""Networking records as EC2's output shapes, and the fields each Describe* filters on."""

from __future__ import annotations

from typing import Any

from dockyard.services.ec2.filters import tag_fields, text
from dockyard.services.ec2.network.model import (
    AssociationState,
    Direction,
    SecurityGroup,
    State,
    Subnet,
    Vpc,
)
from dockyard.services.ec2.network.rules import to_permissions
from dockyard.services.ec2.tags import to_wire

DHCP_OPTIONS = "default"


def cidr_association(v: Vpc) -> str:
    return "vpc-cidr-assoc-" + v.id.removeprefix("vpc-")


def vpc(v: Vpc) -> dict[str, Any]:
    return {
        "VpcId": v.id,
        "OwnerId": v.account_id,
        "State": State.AVAILABLE,
        "CidrBlock": v.cidr,
        "DhcpOptionsId": DHCP_OPTIONS,
        "InstanceTenancy": v.tenancy,
        "IsDefault": v.is_default,
        "CidrBlockAssociationSet": [
            {
                "AssociationId": cidr_association(v),
                "CidrBlock": v.cidr,
                "CidrBlockState": {"State": AssociationState.ASSOCIATED},
            }
        ],
        "Ipv6CidrBlockAssociationSet": [],
        "Tags": to_wire(v.tags),
    }


VPC_FILTERS = (
    "vpc-id",
    "cidr",
    "cidr-block-association.cidr-block",
    "dhcp-options-id",
    "is-default",
    "owner-id",
    "state",
    "instance-tenancy",
)


def vpc_fields(v: Vpc) -> dict[str, list[str]]:
    return {
        "vpc-id": [v.id],
        "cidr": [v.cidr],
        "cidr-block-association.cidr-block": [v.cidr],
        "dhcp-options-id": [DHCP_OPTIONS],
        "is-default": [text(v.is_default)],
        "owner-id": [v.account_id],
        "state": [State.AVAILABLE],
        "instance-tenancy": [v.tenancy],
        **tag_fields(v.tags),
    }


def subnet(s: Subnet) -> dict[str, Any]:
    return {
        "SubnetId": s.id,
        "SubnetArn": s.arn,
        "VpcId": s.vpc_id,
        "OwnerId": s.account_id,
        "State": State.AVAILABLE,
        "CidrBlock": s.cidr,
        "AvailabilityZone": s.zone,
        "AvailabilityZoneId": s.zone_id,
        "AvailableIpAddressCount": s.available,
        "DefaultForAz": s.default_for_az,
        "MapPublicIpOnLaunch": s.map_public_ip,
        "MapCustomerOwnedIpOnLaunch": False,
        "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": [],
        "EnableDns64": False,
        "Ipv6Native": False,
        "PrivateDnsNameOptionsOnLaunch": {
            "HostnameType": "ip-name",
            "EnableResourceNameDnsARecord": False,
            "EnableResourceNameDnsAAAARecord": False,
        },
        "Tags": to_wire(s.tags),
    }


SUBNET_FILTERS = (
    "subnet-id",
    "vpc-id",
    "cidr-block",
    "cidr",
    "cidrBlock",
    "availability-zone",
    "availability-zone-id",
    "availabilityZone",
    "default-for-az",
    "defaultForAz",
    "map-public-ip-on-launch",
    "owner-id",
    "state",
    "subnet-arn",
    "available-ip-address-count",
)


def subnet_fields(s: Subnet) -> dict[str, list[str]]:
    return {
        "subnet-id": [s.id],
        "vpc-id": [s.vpc_id],
        "cidr-block": [s.cidr],
        "cidr": [s.cidr],
        "cidrBlock": [s.cidr],
        "availability-zone": [s.zone],
        "availabilityZone": [s.zone],
        "availability-zone-id": [s.zone_id],
        "default-for-az": [text(s.default_for_az)],
        "defaultForAz": [text(s.default_for_az)],
        "map-public-ip-on-launch": [text(s.map_public_ip)],
        "owner-id": [s.account_id],
        "state": [State.AVAILABLE],
        "subnet-arn": [s.arn],
        "available-ip-address-count": [str(s.available)],
        **tag_fields(s.tags),
    }


def group(g: SecurityGroup) -> dict[str, Any]:
    return {
        "GroupId": g.id,
        "GroupName": g.name,
        "Description": g.description,
        "VpcId": g.vpc_id,
        "OwnerId": g.account_id,
        "SecurityGroupArn": g.arn,
        "IpPermissions": to_permissions(g.rules_of(Direction.INGRESS), g.account_id, g.vpc_id),
        "IpPermissionsEgress": to_permissions(g.rules_of(Direction.EGRESS), g.account_id, g.vpc_id),
        "Tags": to_wire(g.tags),
    }


GROUP_FILTERS = (
    "group-id",
    "group-name",
    "description",
    "vpc-id",
    "owner-id",
    "ip-permission.cidr",
    "ip-permission.ipv6-cidr",
    "ip-permission.from-port",
    "ip-permission.to-port",
    "ip-permission.protocol",
    "ip-permission.group-id",
    "egress.ip-permission.cidr",
    "egress.ip-permission.ipv6-cidr",
    "egress.ip-permission.from-port",
    "egress.ip-permission.to-port",
    "egress.ip-permission.protocol",
    "egress.ip-permission.group-id",
)


def group_fields(g: SecurityGroup) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {
        "group-id": [g.id],
        "group-name": [g.name],
        "description": [g.description],
        "vpc-id": [g.vpc_id],
        "owner-id": [g.account_id],
        **tag_fields(g.tags),
    }
    for direction, prefix in ((Direction.INGRESS, ""), (Direction.EGRESS, "egress.")):
        for r in g.rules_of(direction):
            base = f"{prefix}ip-permission."
            for name, value in (
                ("cidr", r.cidr_ipv4),
                ("ipv6-cidr", r.cidr_ipv6),
                ("group-id", r.group_id),
                ("protocol", r.protocol),
                ("from-port", None if r.from_port is None else str(r.from_port)),
                ("to-port", None if r.to_port is None else str(r.to_port)),
            ):
                if value is not None:
                    out.setdefault(base + name, []).append(value)
    return out
