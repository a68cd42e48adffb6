"""VPC and subnet operations: request in, domain call, output out."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ec2 import tags
from dockyard.services.ec2.describe import described, missing_ids
from dockyard.services.ec2.errors import InvalidParameterValue
from dockyard.services.ec2.filters import with_token
from dockyard.services.ec2.network import wire
from dockyard.services.ec2.network.model import State, Subnet, Vpc
from dockyard.services.ec2.network.vpcs import Vpcs


def _flag(value: object, name: str) -> bool | None:
    """An `AttributeBooleanValue` (`{"Value": true}`)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("Value"), bool):
        raise InvalidParameterValue(f"The parameter {name} needs a Value of true or false.")
    return bool(value["Value"])


VPC_ATTRIBUTES = {
    "enableDnsSupport": "EnableDnsSupport",
    "enableDnsHostnames": "EnableDnsHostnames",
    # Always off: Dockyard publishes no network address usage metrics.
    "enableNetworkAddressUsageMetrics": "EnableNetworkAddressUsageMetrics",
}


def handlers(vpcs: Vpcs) -> dict[str, Handler]:
    records = vpcs.records

    def create_vpc(ctx: RequestContext, p: Params) -> Result:
        for unsupported in ("Ipv4IpamPoolId", "Ipv6IpamPoolId", "Ipv6Pool", "Ipv6CidrBlock"):
            if p.get(unsupported):
                raise InvalidParameterValue(
                    f"Dockyard does not serve IPAM pools or IPv6 VPC blocks ({unsupported})."
                )
        if p.get("AmazonProvidedIpv6CidrBlock"):
            raise InvalidParameterValue(
                "Dockyard does not serve IPv6 VPC blocks (AmazonProvidedIpv6CidrBlock)."
            )
        new = vpcs.create_vpc(
            scope_of(ctx),
            p.get("CidrBlock"),
            p.get("InstanceTenancy"),
            tags.specified(p.get("TagSpecifications"), "vpc"),
        )
        return {"Vpc": {**wire.vpc(new), "State": State.PENDING}}

    def describe_vpcs(ctx: RequestContext, p: Params) -> Result:
        chunk, token = described(
            records.all(scope_of(ctx), Vpc),
            lambda v: v.id,
            p.get("VpcIds"),
            missing_ids("InvalidVpcID.NotFound", "vpc"),
            wire.vpc_fields,
            wire.VPC_FILTERS,
            p,
        )
        return with_token({"Vpcs": [wire.vpc(v) for v in chunk]}, token)

    def delete_vpc(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        vpcs.delete_vpc(scope, vpcs.get(scope, p.get("VpcId")))
        return {}

    def describe_vpc_attribute(ctx: RequestContext, p: Params) -> Result:
        vpc = vpcs.get(scope_of(ctx), p.get("VpcId"))
        attribute = p.get("Attribute")
        if attribute not in VPC_ATTRIBUTES:
            raise InvalidParameterValue(
                f"Value ({attribute}) for parameter attribute is invalid. Dockyard serves "
                f"{', '.join(VPC_ATTRIBUTES)}."
            )
        value = {
            "enableDnsSupport": vpc.dns_support,
            "enableDnsHostnames": vpc.dns_hostnames,
        }.get(attribute, False)
        return {"VpcId": vpc.id, VPC_ATTRIBUTES[attribute]: {"Value": value}}

    def modify_vpc_attribute(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if p.get("EnableNetworkAddressUsageMetrics") is not None:
            raise InvalidParameterValue(
                "Dockyard does not serve network address usage metrics "
                "(EnableNetworkAddressUsageMetrics)."
            )
        vpcs.modify_vpc(
            scope,
            vpcs.get(scope, p.get("VpcId")),
            _flag(p.get("EnableDnsSupport"), "EnableDnsSupport"),
            _flag(p.get("EnableDnsHostnames"), "EnableDnsHostnames"),
        )
        return {}

    def create_subnet(ctx: RequestContext, p: Params) -> Result:
        for unsupported in ("Ipv6CidrBlock", "Ipv4IpamPoolId", "Ipv6IpamPoolId", "OutpostArn"):
            if p.get(unsupported):
                raise InvalidParameterValue(
                    f"Dockyard does not serve IPv6, IPAM or Outposts subnets ({unsupported})."
                )
        if p.get("Ipv6Native"):
            raise InvalidParameterValue("Dockyard does not serve IPv6-only subnets (Ipv6Native).")
        new = vpcs.create_subnet(
            scope_of(ctx),
            p.get("VpcId"),
            p.get("CidrBlock"),
            p.get("AvailabilityZone"),
            p.get("AvailabilityZoneId"),
            tags.specified(p.get("TagSpecifications"), "subnet"),
        )
        return {"Subnet": wire.subnet(new)}

    def describe_subnets(ctx: RequestContext, p: Params) -> Result:
        chunk, token = described(
            records.all(scope_of(ctx), Subnet),
            lambda s: s.id,
            p.get("SubnetIds"),
            missing_ids("InvalidSubnetID.NotFound", "subnet"),
            wire.subnet_fields,
            wire.SUBNET_FILTERS,
            p,
        )
        return with_token({"Subnets": [wire.subnet(s) for s in chunk]}, token)

    def delete_subnet(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        vpcs.delete_subnet(scope, vpcs.subnet(scope, p.get("SubnetId")))
        return {}

    def modify_subnet_attribute(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        subnet = vpcs.subnet(scope, p.get("SubnetId"))
        known = {"SubnetId", "MapPublicIpOnLaunch", "DryRun"}
        others = sorted(k for k, v in p.items() if k not in known and v is not None)
        if others:
            raise InvalidParameterValue(
                f"Dockyard serves MapPublicIpOnLaunch of subnets only ({', '.join(others)})."
            )
        vpcs.modify_subnet(
            scope, subnet, _flag(p.get("MapPublicIpOnLaunch"), "MapPublicIpOnLaunch")
        )
        return {}

    return {
        "CreateVpc": create_vpc,
        "DescribeVpcs": describe_vpcs,
        "DeleteVpc": delete_vpc,
        "DescribeVpcAttribute": describe_vpc_attribute,
        "ModifyVpcAttribute": modify_vpc_attribute,
        "CreateSubnet": create_subnet,
        "DescribeSubnets": describe_subnets,
        "DeleteSubnet": delete_subnet,
        "ModifySubnetAttribute": modify_subnet_attribute,
    }
