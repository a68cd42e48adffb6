"""EC2 networking records through a real server: boto3 and the AWS CLI create a VPC, subnets in
two zones, security groups with rules, tags; EC2's error shape; records survive a kill -9."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client
from tests.support.server import DockyardProcess


def account() -> str:
    """A 12-digit access key is its own account: each test gets fresh defaults."""
    return str(uuid.uuid4().int)[:12].rjust(12, "1")


def ec2_of(server: DockyardProcess, key: str | None = None) -> Any:
    return make_client("ec2", server.endpoint, access_key=key or account())


def error(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response: dict[str, Any] = err.value.response
    return response


def test_default_vpc_of_a_new_account(dockyard: DockyardProcess) -> None:
    ec2 = ec2_of(dockyard)
    (vpc,) = ec2.describe_vpcs()["Vpcs"]
    assert (vpc["CidrBlock"], vpc["IsDefault"]) == ("172.31.0.0/16", True)
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    zones = sorted((s["AvailabilityZone"], s["CidrBlock"]) for s in subnets["Subnets"])
    assert zones == [
        ("us-east-1a", "172.31.0.0/20"),
        ("us-east-1b", "172.31.16.0/20"),
        ("us-east-1c", "172.31.32.0/20"),
    ]
    attrs = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    assert attrs[0]["AttributeValues"] == [{"AttributeValue": vpc["VpcId"]}]
    zone_ids = [z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    assert zone_ids == ["use1-az1", "use1-az2", "use1-az3"]


def test_vpc_subnets_groups_and_rules_with_boto3(dockyard: DockyardProcess) -> None:
    ec2 = ec2_of(dockyard)
    vpc = ec2.create_vpc(
        CidrBlock="10.20.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "app"}]}],
    )["Vpc"]["VpcId"]
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["app"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    assert ec2.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")[
        "EnableDnsHostnames"
    ] == {"Value": True}
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24", AvailabilityZoneId="use1-az2")
    assert a["Subnet"]["AvailableIpAddressCount"] == 251
    assert b["Subnet"]["AvailabilityZone"] == "us-east-1b"
    conflict = error(ec2.create_subnet, VpcId=vpc, CidrBlock="10.20.1.0/25")
    assert conflict["Error"]["Code"] == "InvalidSubnet.Conflict"
    assert conflict["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert conflict["ResponseMetadata"]["RequestId"]

    web = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    db = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    rules = ec2.authorize_security_group_ingress(
        GroupId=db,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
             "UserIdGroupPairs": [{"GroupId": web, "Description": "from web"}]},
        ],
    )["SecurityGroupRules"]  # fmt: skip
    assert [(r["FromPort"], r["ReferencedGroupInfo"]["GroupId"]) for r in rules] == [(5432, web)]
    dup = error(
        ec2.authorize_security_group_ingress,
        GroupId=db,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
             "UserIdGroupPairs": [{"GroupId": web}]},
        ],
    )  # fmt: skip
    assert dup["Error"]["Code"] == "InvalidPermission.Duplicate"
    (shown,) = ec2.describe_security_groups(GroupIds=[db])["SecurityGroups"]
    assert shown["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == web
    assert shown["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    in_use = error(ec2.delete_security_group, GroupId=web)
    assert in_use["Error"]["Code"] == "DependencyViolation"

    busy = error(ec2.delete_vpc, VpcId=vpc)
    assert busy["Error"]["Code"] == "DependencyViolation"
    ec2.delete_security_group(GroupId=db)
    ec2.delete_security_group(GroupId=web)
    for subnet in (a, b):
        ec2.delete_subnet(SubnetId=subnet["Subnet"]["SubnetId"])
    ec2.delete_vpc(VpcId=vpc)
    gone = error(ec2.describe_vpcs, VpcIds=[vpc])
    assert gone["Error"]["Code"] == "InvalidVpcID.NotFound"


def test_tags_pages_and_dry_run(dockyard: DockyardProcess) -> None:
    ec2 = ec2_of(dockyard)
    made = [ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(6)]
    ec2.create_tags(Resources=made[:3], Tags=[{"Key": "team", "Value": "core"}])
    tagged = ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["team"]}])["Vpcs"]
    assert sorted(v["VpcId"] for v in tagged) == sorted(made[:3])
    described = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["vpc"]}])["Tags"]
    assert sorted(t["ResourceId"] for t in described) == sorted(made[:3])
    ec2.delete_tags(Resources=made[:1], Tags=[{"Key": "team"}])
    left = ec2.describe_vpcs(Filters=[{"Name": "tag:team", "Values": ["c*"]}])["Vpcs"]
    assert len(left) == 2
    pages = list(ec2.get_paginator("describe_vpcs").paginate(PaginationConfig={"PageSize": 5}))
    seen = [v["VpcId"] for page in pages for v in page["Vpcs"]]
    assert len(pages) == 2 and len(seen) == len(set(seen)) == 7
    dry = error(ec2.create_vpc, CidrBlock="10.99.0.0/16", DryRun=True)
    assert dry["Error"]["Code"] == "DryRunOperation"
    assert dry["ResponseMetadata"]["HTTPStatusCode"] == 412
    unserved = error(ec2.describe_vpn_connections)
    assert unserved["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_security_group_with_the_aws_cli(dockyard: DockyardProcess) -> None:
    name = "cli-" + uuid.uuid4().hex[:8]
    made = aws_json(
        dockyard.endpoint, "ec2", "create-security-group",
        "--group-name", name, "--description", "from the CLI",
    )  # fmt: skip
    group = made["GroupId"]
    aws_json(
        dockyard.endpoint, "ec2", "authorize-security-group-ingress",
        "--group-id", group, "--protocol", "tcp", "--port", "22", "--cidr", "10.0.0.0/8",
    )  # fmt: skip
    shown = aws_json(
        dockyard.endpoint, "ec2", "describe-security-groups",
        "--filters", f"Name=group-name,Values={name}",
    )  # fmt: skip
    (g,) = shown["SecurityGroups"]
    assert g["GroupId"] == group
    assert [
        (p["IpProtocol"], p["FromPort"], p["ToPort"], p["IpRanges"]) for p in g["IpPermissions"]
    ] == [("tcp", 22, 22, [{"CidrIp": "10.0.0.0/8"}])]


def test_records_survive_kill_9(fresh_server: Callable[..., DockyardProcess]) -> None:
    server = fresh_server("--runtime", "process")
    key = account()
    ec2 = ec2_of(server, key)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="kept", Description="kept", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0"
    )
    before = (ec2.describe_vpcs()["Vpcs"], ec2.describe_subnets()["Subnets"],
              ec2.describe_security_groups()["SecurityGroups"])  # fmt: skip
    server.kill()
    again = fresh_server("--runtime", "process", data_dir=server.data_dir)
    ec2 = ec2_of(again, key)
    after = (ec2.describe_vpcs()["Vpcs"], ec2.describe_subnets()["Subnets"],
             ec2.describe_security_groups()["SecurityGroups"])  # fmt: skip
    assert after == before
    assert subnet in {s["SubnetId"] for s in after[1]}


def test_public_subnet_with_an_internet_gateway(dockyard: DockyardProcess) -> None:
    """The usual template: a VPC, an internet gateway, a route table with 0.0.0.0/0 to it,
    associated with a subnet that maps public addresses."""
    ec2 = ec2_of(dockyard)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    assert ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)[
        "Return"
    ]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.0.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    association = ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    (shown,) = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["RouteTables"]
    assert shown["RouteTableId"] == table
    assert [(r["DestinationCidrBlock"], r["GatewayId"], r["State"]) for r in shown["Routes"]] == [
        ("10.40.0.0/16", "local", "active"),
        ("0.0.0.0/0", igw, "active"),
    ]
    attached = ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"]
    assert attached[0]["Attachments"] == [{"State": "available", "VpcId": vpc}]
    busy = error(ec2.delete_internet_gateway, InternetGatewayId=igw)
    assert busy["Error"]["Code"] == "DependencyViolation"
    ec2.disassociate_route_table(AssociationId=association["AssociationId"])
    ec2.delete_route_table(RouteTableId=table)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)
