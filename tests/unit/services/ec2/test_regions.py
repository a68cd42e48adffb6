"""Zones, regions and account attributes, as EC2 answers them."""

from __future__ import annotations

from dockyard.services.ec2 import Ec2
from dockyard.store import SqliteStore
from tests.unit.services.ec2.conftest import Call, error_of, make_call


def test_three_zones_with_names_and_ids(call: Call) -> None:
    zones = call("DescribeAvailabilityZones")["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"]) for z in zones] == [
        ("us-east-1a", "use1-az1"),
        ("us-east-1b", "use1-az2"),
        ("us-east-1c", "use1-az3"),
    ]
    assert {z["State"] for z in zones} == {"available"}


def test_zones_by_id_and_filter(call: Call) -> None:
    by_id = call("DescribeAvailabilityZones", ZoneIds=["use1-az2"])["AvailabilityZones"]
    assert [z["ZoneName"] for z in by_id] == ["us-east-1b"]
    chosen = call("DescribeAvailabilityZones", Filters=[{"Name": "zone-name", "Values": ["*c"]}])[
        "AvailabilityZones"
    ]
    assert [z["ZoneName"] for z in chosen] == ["us-east-1c"]
    assert error_of(call, "DescribeAvailabilityZones", ZoneNames=["us-east-1z"]).code == (
        "InvalidParameterValue"
    )


def test_zone_ids_follow_the_region() -> None:
    service = Ec2(SqliteStore(":memory:"))
    call = make_call(service, region="ap-southeast-1")
    zones = call("DescribeAvailabilityZones")["AvailabilityZones"]
    assert [z["ZoneId"] for z in zones] == ["apse1-az1", "apse1-az2", "apse1-az3"]


def test_regions(call: Call) -> None:
    names = [r["RegionName"] for r in call("DescribeRegions")["Regions"]]
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(names)
    one = call("DescribeRegions", RegionNames=["eu-west-1"])["Regions"]
    assert one == [
        {
            "RegionName": "eu-west-1",
            "Endpoint": "ec2.eu-west-1.amazonaws.com",
            "OptInStatus": "opt-in-not-required",
        }
    ]
    assert error_of(call, "DescribeRegions", RegionNames=["mars-1"]).code == "InvalidParameterValue"


def test_account_attributes_name_the_default_vpc(call: Call) -> None:
    vpc = call("DescribeVpcs", Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    attrs = call("DescribeAccountAttributes", AttributeNames=["default-vpc", "supported-platforms"])
    values = {
        a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
        for a in attrs["AccountAttributes"]
    }
    assert values == {"default-vpc": [vpc["VpcId"]], "supported-platforms": ["VPC"]}


def test_dry_run_answers_dry_run_operation(call: Call) -> None:
    err = error_of(call, "CreateVpc", CidrBlock="10.0.0.0/16", DryRun=True)
    assert (err.code, err.status) == ("DryRunOperation", 412)
    assert len(call("DescribeVpcs")["Vpcs"]) == 1  # only the default VPC
