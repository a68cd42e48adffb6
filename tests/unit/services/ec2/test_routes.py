"""Route tables and internet gateways: the main table, routes to attached gateways,
associations, and what blocks a delete."""

from __future__ import annotations

from typing import Any

from dockyard.services.ec2 import Ec2
from dockyard.store import SqliteStore
from tests.unit.services.ec2.conftest import Call, error_of, make_call


def setup(call: Call) -> tuple[str, str]:
    vpc = call("CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    return vpc, subnet


def tables_of(call: Call, vpc: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = call(
        "DescribeRouteTables", Filters=[{"Name": "vpc-id", "Values": [vpc]}]
    )["RouteTables"]
    return found


def test_each_vpc_has_a_main_table_with_its_local_route(call: Call) -> None:
    vpc, _ = setup(call)
    (main,) = tables_of(call, vpc)
    assert main["Routes"] == [{
        "DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local",
        "Origin": "CreateRouteTable", "State": "active",
    }]  # fmt: skip
    assert [a["Main"] for a in main["Associations"]] == [True]
    err = error_of(call, "DeleteRouteTable", RouteTableId=main["RouteTableId"])
    assert err.code == "DependencyViolation"


def test_default_vpc_routes_to_its_internet_gateway(call: Call) -> None:
    default = call("DescribeVpcs", Filters=[{"Name": "is-default", "Values": ["true"]}])
    vpc = default["Vpcs"][0]["VpcId"]
    (gateway,) = call(
        "DescribeInternetGateways", Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}]
    )["InternetGateways"]
    (main,) = tables_of(call, vpc)
    assert {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": gateway["InternetGatewayId"],
            "Origin": "CreateRoute", "State": "active"} in main["Routes"]  # fmt: skip


def test_gateway_attach_route_detach_blackhole(call: Call) -> None:
    vpc, _ = setup(call)
    igw = call("CreateInternetGateway")["InternetGateway"]["InternetGatewayId"]
    table = call("CreateRouteTable", VpcId=vpc)["RouteTable"]["RouteTableId"]
    early = error_of(call, "CreateRoute", RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                     GatewayId=igw)  # fmt: skip
    assert early.code == "InvalidParameterValue"  # not attached to this VPC yet
    call("AttachInternetGateway", InternetGatewayId=igw, VpcId=vpc)
    again = error_of(call, "AttachInternetGateway", InternetGatewayId=igw, VpcId=vpc)
    assert again.code == "Resource.AlreadyAssociated"
    call("CreateRoute", RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    dup = error_of(call, "CreateRoute", RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                   GatewayId=igw)  # fmt: skip
    assert dup.code == "RouteAlreadyExists"
    assert error_of(call, "DeleteInternetGateway", InternetGatewayId=igw).code == (
        "DependencyViolation"
    )
    assert error_of(call, "DeleteVpc", VpcId=vpc).code == "DependencyViolation"
    call("DetachInternetGateway", InternetGatewayId=igw, VpcId=vpc)
    shown = call("DescribeRouteTables", RouteTableIds=[table])["RouteTables"][0]["Routes"]
    assert [r["State"] for r in shown] == ["active", "blackhole"]
    not_attached = error_of(call, "DetachInternetGateway", InternetGatewayId=igw, VpcId=vpc)
    assert not_attached.code == "Gateway.NotAttached"
    call("DeleteInternetGateway", InternetGatewayId=igw)
    gone = error_of(call, "DescribeInternetGateways", InternetGatewayIds=[igw])
    assert gone.code == "InvalidInternetGatewayID.NotFound"
    call("DeleteRoute", RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    local = error_of(call, "DeleteRoute", RouteTableId=table, DestinationCidrBlock="10.0.0.0/16")
    assert local.code == "InvalidParameterValue"
    missing = error_of(call, "DeleteRoute", RouteTableId=table, DestinationCidrBlock="1.0.0.0/8")
    assert missing.code == "InvalidRoute.NotFound"


def test_associations(call: Call) -> None:
    vpc, subnet = setup(call)
    table = call("CreateRouteTable", VpcId=vpc)["RouteTable"]["RouteTableId"]
    other = call("CreateRouteTable", VpcId=vpc)["RouteTable"]["RouteTableId"]
    out = call("AssociateRouteTable", RouteTableId=table, SubnetId=subnet)
    assert out["AssociationState"] == {"State": "associated"}
    taken = error_of(call, "AssociateRouteTable", RouteTableId=other, SubnetId=subnet)
    assert taken.code == "Resource.AlreadyAssociated"
    by_subnet = call(
        "DescribeRouteTables", Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["RouteTables"]
    assert [t["RouteTableId"] for t in by_subnet] == [table]
    assert error_of(call, "DeleteRouteTable", RouteTableId=table).code == "DependencyViolation"
    moved = call("ReplaceRouteTableAssociation", AssociationId=out["AssociationId"],
                 RouteTableId=other)["NewAssociationId"]  # fmt: skip
    call("DisassociateRouteTable", AssociationId=moved)
    call("DeleteRouteTable", RouteTableId=table)
    assert error_of(call, "DisassociateRouteTable", AssociationId=moved).code == (
        "InvalidAssociationID.NotFound"
    )


def test_the_main_association_can_move_but_not_go(call: Call) -> None:
    vpc, _ = setup(call)
    (main,) = tables_of(call, vpc)
    main_assoc = main["Associations"][0]["RouteTableAssociationId"]
    assert error_of(call, "DisassociateRouteTable", AssociationId=main_assoc).code == (
        "InvalidParameterValue"
    )
    new = call("CreateRouteTable", VpcId=vpc)["RouteTable"]["RouteTableId"]
    call("ReplaceRouteTableAssociation", AssociationId=main_assoc, RouteTableId=new)
    mains = call("DescribeRouteTables", Filters=[{"Name": "association.main", "Values": ["true"]},
                                                 {"Name": "vpc-id", "Values": [vpc]}])  # fmt: skip
    assert [t["RouteTableId"] for t in mains["RouteTables"]] == [new]
    call("DeleteRouteTable", RouteTableId=main["RouteTableId"])  # no longer the main one


def test_deleting_a_subnet_drops_its_association(call: Call) -> None:
    vpc, subnet = setup(call)
    table = call("CreateRouteTable", VpcId=vpc)["RouteTable"]["RouteTableId"]
    call("AssociateRouteTable", RouteTableId=table, SubnetId=subnet)
    call("DeleteSubnet", SubnetId=subnet)
    call("DeleteRouteTable", RouteTableId=table)
    call("DeleteVpc", VpcId=vpc)


def test_other_route_targets_are_refused_by_name(call: Call) -> None:
    vpc, _ = setup(call)
    table = call("CreateRouteTable", VpcId=vpc)["RouteTable"]["RouteTableId"]
    err = error_of(call, "CreateRoute", RouteTableId=table, DestinationCidrBlock="0.0.0.0/0",
                   NatGatewayId="nat-00000000000000000")  # fmt: skip
    assert err.code == "InvalidParameterValue" and "NatGatewayId" in err.message


def test_tables_gateways_and_acls_survive_a_reload(store: SqliteStore, call: Call) -> None:
    vpc, subnet = setup(call)
    igw = call("CreateInternetGateway")["InternetGateway"]["InternetGatewayId"]
    call("AttachInternetGateway", InternetGatewayId=igw, VpcId=vpc)
    table = call("CreateRouteTable", VpcId=vpc)["RouteTable"]["RouteTableId"]
    call("CreateRoute", RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    call("AssociateRouteTable", RouteTableId=table, SubnetId=subnet)
    reads = ("DescribeRouteTables", "DescribeInternetGateways", "DescribeNetworkAcls")
    before = [call(op) for op in reads]
    again = Ec2(store)
    again.load()
    assert [make_call(again)(op) for op in reads] == before
