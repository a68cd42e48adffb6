"""VPCs, subnets and the default VPC: CIDR rules, free address counts, dependencies,
durability (a reload sees what was acknowledged; a refused commit changes nothing)."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.scope import Scope
from dockyard.services.ec2 import Ec2
from dockyard.store import SqliteStore
from dockyard.store.base import StoreUnavailable
from tests.unit.services.ec2.conftest import ACCOUNT, REGION, Call, error_of, make_call


def new_vpc(call: Call, cidr: str = "10.0.0.0/16", **extra: Any) -> str:
    vpc_id: str = call("CreateVpc", CidrBlock=cidr, **extra)["Vpc"]["VpcId"]
    return vpc_id


def test_default_vpc_has_a_default_subnet_per_zone(call: Call) -> None:
    (vpc,) = call("DescribeVpcs")["Vpcs"]
    assert (vpc["CidrBlock"], vpc["IsDefault"], vpc["State"]) == (
        "172.31.0.0/16",
        True,
        "available",
    )
    subnets = call("DescribeSubnets", Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    rows = sorted(
        (
            s["AvailabilityZone"],
            s["CidrBlock"],
            s["DefaultForAz"],
            s["MapPublicIpOnLaunch"],
            s["AvailableIpAddressCount"],
        )
        for s in subnets["Subnets"]
    )
    assert rows == [
        ("us-east-1a", "172.31.0.0/20", True, True, 4091),
        ("us-east-1b", "172.31.16.0/20", True, True, 4091),
        ("us-east-1c", "172.31.32.0/20", True, True, 4091),
    ]
    dns = call("DescribeVpcAttribute", VpcId=vpc["VpcId"], Attribute="enableDnsHostnames")
    assert dns["EnableDnsHostnames"] == {"Value": True}


def test_default_vpc_is_per_account_and_region(ec2: Ec2) -> None:
    east = make_call(ec2)("DescribeVpcs")["Vpcs"][0]["VpcId"]
    west = make_call(ec2, region="eu-west-1")("DescribeVpcs")["Vpcs"]
    other = make_call(ec2, account="210987654321")("DescribeVpcs")["Vpcs"]
    assert west[0]["VpcId"] != east and other[0]["VpcId"] != east
    subnet = make_call(ec2, region="eu-west-1")("DescribeSubnets")["Subnets"][0]
    assert subnet["AvailabilityZone"].startswith("eu-west-1")


def test_the_default_vpc_is_made_once(store: SqliteStore, call: Call) -> None:
    vpc = call("DescribeVpcs")["Vpcs"][0]["VpcId"]
    for s in call("DescribeSubnets")["Subnets"]:
        call("DeleteSubnet", SubnetId=s["SubnetId"])
    err = error_of(call, "DeleteVpc", VpcId=vpc)  # its internet gateway is attached
    assert err.code == "DependencyViolation"
    again = Ec2(store)
    again.load()
    assert [v["VpcId"] for v in make_call(again)("DescribeVpcs")["Vpcs"]] == [vpc]


def test_create_vpc_gets_a_main_route_table_and_default_group(ec2: Ec2, call: Call) -> None:
    vpc = call("CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]
    assert vpc["CidrBlock"] == "10.0.0.0/16" and vpc["IsDefault"] is False
    groups = call("DescribeSecurityGroups", Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
    assert [g["GroupName"] for g in groups["SecurityGroups"]] == ["default"]
    support = call("DescribeVpcAttribute", VpcId=vpc["VpcId"], Attribute="enableDnsSupport")
    hostnames = call("DescribeVpcAttribute", VpcId=vpc["VpcId"], Attribute="enableDnsHostnames")
    assert (support["EnableDnsSupport"], hostnames["EnableDnsHostnames"]) == (
        {"Value": True},
        {"Value": False},
    )


@pytest.mark.parametrize(
    ("cidr", "code"),
    [
        ("10.0.0.0/8", "InvalidVpc.Range"),
        ("10.0.0.0/29", "InvalidVpc.Range"),
        ("10.0.0.0/33", "InvalidParameterValue"),
        ("10.0.0.1/16", "InvalidParameterValue"),
        ("not-a-cidr", "InvalidParameterValue"),
    ],
)
def test_vpc_cidr_rules(call: Call, cidr: str, code: str) -> None:
    err = error_of(call, "CreateVpc", CidrBlock=cidr)
    assert err.code == code and cidr in err.message


def test_vpc_without_cidr_is_a_missing_parameter(call: Call) -> None:
    assert error_of(call, "CreateVpc").code == "MissingParameter"


def test_modify_vpc_dns_attributes(call: Call) -> None:
    vpc = new_vpc(call)
    call("ModifyVpcAttribute", VpcId=vpc, EnableDnsHostnames={"Value": True})
    shown = call("DescribeVpcAttribute", VpcId=vpc, Attribute="enableDnsHostnames")
    assert shown == {"VpcId": vpc, "EnableDnsHostnames": {"Value": True}}
    both = error_of(
        call,
        "ModifyVpcAttribute",
        VpcId=vpc,
        EnableDnsSupport={"Value": True},
        EnableDnsHostnames={"Value": True},
    )
    assert both.code == "InvalidParameterCombination"


@pytest.mark.parametrize(
    ("cidr", "code"),
    [
        ("10.1.0.0/24", "InvalidSubnet.Range"),  # outside the VPC
        ("10.0.0.0/29", "InvalidSubnet.Range"),  # smaller than /28
        ("10.0.1.128/25", "InvalidSubnet.Conflict"),  # inside 10.0.1.0/24
        ("10.0.0.0/16", "InvalidSubnet.Conflict"),
    ],
)
def test_subnet_cidr_rules(call: Call, cidr: str, code: str) -> None:
    vpc = new_vpc(call)
    call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24")
    assert error_of(call, "CreateSubnet", VpcId=vpc, CidrBlock=cidr).code == code


def test_subnet_zone_by_name_or_id_and_free_count(call: Call) -> None:
    vpc = new_vpc(call)
    by_name = call(
        "CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1b"
    )
    by_id = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.2.0/28", AvailabilityZoneId="use1-az3")
    assert by_name["Subnet"]["AvailabilityZoneId"] == "use1-az2"
    assert by_id["Subnet"]["AvailabilityZone"] == "us-east-1c"
    assert (
        by_name["Subnet"]["AvailableIpAddressCount"],
        by_id["Subnet"]["AvailableIpAddressCount"],
    ) == (251, 11)
    err = error_of(
        call, "CreateSubnet", VpcId=vpc, CidrBlock="10.0.3.0/24", AvailabilityZone="us-east-1z"
    )
    assert err.code == "InvalidParameterValue"


def test_subnet_in_unknown_vpc(call: Call) -> None:
    err = error_of(call, "CreateSubnet", VpcId="vpc-0000000000000000a", CidrBlock="10.0.0.0/24")
    assert err.code == "InvalidVpcID.NotFound" and "vpc-0000000000000000a" in err.message


def test_allocated_addresses_lower_the_free_count(ec2: Ec2, call: Call) -> None:
    vpc = new_vpc(call)
    subnet_id = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.0.0/28")["Subnet"]["SubnetId"]
    scope = Scope(ACCOUNT, REGION)
    first = ec2.vpcs.allocate_address(scope, ec2.vpcs.subnet(scope, subnet_id))
    second = ec2.vpcs.allocate_address(scope, ec2.vpcs.subnet(scope, subnet_id))
    assert (first, second) == ("10.0.0.4", "10.0.0.5")  # .0-.3 and .15 are reserved

    def free() -> int:
        shown = call("DescribeSubnets", SubnetIds=[subnet_id])["Subnets"][0]
        count: int = shown["AvailableIpAddressCount"]
        return count

    assert free() == 9
    assert error_of(call, "DeleteSubnet", SubnetId=subnet_id).code == "DependencyViolation"
    ec2.vpcs.release_address(scope, ec2.vpcs.subnet(scope, subnet_id), first)
    assert free() == 10
    for _ in range(10):
        ec2.vpcs.allocate_address(scope, ec2.vpcs.subnet(scope, subnet_id))
    with pytest.raises(Exception, match="not enough free addresses"):
        ec2.vpcs.allocate_address(scope, ec2.vpcs.subnet(scope, subnet_id))


def test_delete_vpc_with_subnets_is_a_dependency_violation(call: Call) -> None:
    vpc = new_vpc(call)
    subnet = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    err = error_of(call, "DeleteVpc", VpcId=vpc)
    assert err.code == "DependencyViolation" and vpc in err.message
    call("DeleteSubnet", SubnetId=subnet)
    call("DeleteVpc", VpcId=vpc)
    assert error_of(call, "DescribeVpcs", VpcIds=[vpc]).code == "InvalidVpcID.NotFound"
    groups = call("DescribeSecurityGroups", Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert groups["SecurityGroups"] == []  # its default group went with it


def test_unknown_and_malformed_ids(call: Call) -> None:
    assert error_of(call, "DescribeSubnets", SubnetIds=["subnet-0123456789abcdef0"]).code == (
        "InvalidSubnetID.NotFound"
    )
    assert error_of(call, "DeleteVpc", VpcId="nope").code == "InvalidVpcID.Malformed"


def test_modify_subnet_map_public_ip(call: Call) -> None:
    vpc = new_vpc(call)
    subnet = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    call("ModifySubnetAttribute", SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    assert call("DescribeSubnets", SubnetIds=[subnet])["Subnets"][0]["MapPublicIpOnLaunch"] is True


def test_records_survive_a_reload(store: SqliteStore, call: Call) -> None:
    vpc = new_vpc(
        call, TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"}]}]
    )
    call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.0.0/24")
    before = (call("DescribeVpcs"), call("DescribeSubnets"), call("DescribeSecurityGroups"))
    again = Ec2(store)
    again.load()
    other = make_call(again)
    assert (
        other("DescribeVpcs"),
        other("DescribeSubnets"),
        other("DescribeSecurityGroups"),
    ) == before


class RefusingStore(SqliteStore):
    refuse = False

    def write(self, puts: Any = (), deletes: Any = ()) -> None:
        if self.refuse:
            raise StoreUnavailable("disk full")
        super().write(puts, deletes)


def test_a_refused_commit_changes_nothing() -> None:
    store = RefusingStore(":memory:")
    service = Ec2(store)
    call = make_call(service)
    vpc = new_vpc(call)
    subnet = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    before = (call("DescribeVpcs"), call("DescribeSubnets"))
    store.refuse = True
    with pytest.raises(StoreUnavailable):
        call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24")
    with pytest.raises(StoreUnavailable):
        call("ModifySubnetAttribute", SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    with pytest.raises(StoreUnavailable):
        call("DeleteSubnet", SubnetId=subnet)
    store.refuse = False
    assert (call("DescribeVpcs"), call("DescribeSubnets")) == before


def test_a_deleted_default_vpc_stays_deleted(store: SqliteStore, call: Call) -> None:
    vpc = call("DescribeVpcs")["Vpcs"][0]["VpcId"]
    for s in call("DescribeSubnets")["Subnets"]:
        call("DeleteSubnet", SubnetId=s["SubnetId"])
    (igw,) = call("DescribeInternetGateways")["InternetGateways"]
    call("DetachInternetGateway", InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc)
    call("DeleteInternetGateway", InternetGatewayId=igw["InternetGatewayId"])
    call("DeleteVpc", VpcId=vpc)
    again = Ec2(store)
    again.load()
    other = make_call(again)
    assert other("DescribeVpcs")["Vpcs"] == []
    attrs = other("DescribeAccountAttributes", AttributeNames=["default-vpc"])
    assert attrs["AccountAttributes"][0]["AttributeValues"] == [{"AttributeValue": "none"}]
    no_vpc = error_of(other, "CreateSecurityGroup", GroupName="g", Description="g")
    assert no_vpc.code == "VPCIdNotSpecified"


def test_dns_hostnames_need_dns_support(call: Call) -> None:
    vpc = new_vpc(call)
    call("ModifyVpcAttribute", VpcId=vpc, EnableDnsSupport={"Value": False})
    err = error_of(call, "ModifyVpcAttribute", VpcId=vpc, EnableDnsHostnames={"Value": True})
    assert err.code == "InvalidParameterValue"
    shown = call("DescribeVpcAttribute", VpcId=vpc, Attribute="enableDnsSupport")
    assert shown["EnableDnsSupport"] == {"Value": False}


def test_network_address_usage_metrics_are_off(call: Call) -> None:
    vpc = new_vpc(call)
    shown = call("DescribeVpcAttribute", VpcId=vpc, Attribute="enableNetworkAddressUsageMetrics")
    assert shown == {"VpcId": vpc, "EnableNetworkAddressUsageMetrics": {"Value": False}}
    err = error_of(call, "ModifyVpcAttribute", VpcId=vpc,
                   EnableNetworkAddressUsageMetrics={"Value": True})  # fmt: skip
    assert err.code == "InvalidParameterValue"


def test_a_refused_default_vpc_is_made_on_the_next_request() -> None:
    store = RefusingStore(":memory:")
    service = Ec2(store)
    call = make_call(service)
    store.refuse = True
    with pytest.raises(StoreUnavailable):
        call("DescribeVpcs")
    assert service.records.by_scope == {}
    store.refuse = False
    assert len(call("DescribeVpcs")["Vpcs"]) == 1
    assert len(call("DescribeVpcs")["Vpcs"]) == 1


def test_reset_forgets_everything_and_makes_a_new_default_vpc(
    store: SqliteStore, ec2: Ec2, call: Call
) -> None:
    first = call("DescribeVpcs")["Vpcs"][0]["VpcId"]
    new_vpc(call)
    store.reset()
    ec2.reset()
    (again,) = call("DescribeVpcs")["Vpcs"]
    assert again["IsDefault"] and again["VpcId"] != first
