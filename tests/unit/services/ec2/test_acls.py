"""The default network ACL of each VPC: allow all, then the catch-all deny, on every subnet."""

from __future__ import annotations

from tests.unit.services.ec2.conftest import Call, error_of


def test_each_vpc_has_a_default_acl_on_all_its_subnets(call: Call) -> None:
    vpc = call("CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    found = call("DescribeNetworkAcls", Filters=[
        {"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]},
    ])["NetworkAcls"]  # fmt: skip
    (acl,) = found
    assert [(e["RuleNumber"], e["Egress"], e["RuleAction"]) for e in acl["Entries"]] == [
        (100, False, "allow"), (32767, False, "deny"), (100, True, "allow"), (32767, True, "deny"),
    ]  # fmt: skip
    assert [a["SubnetId"] for a in acl["Associations"]] == [subnet]
    by_subnet = call(
        "DescribeNetworkAcls", Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["NetworkAcls"]
    assert [a["NetworkAclId"] for a in by_subnet] == [acl["NetworkAclId"]]
    call("CreateTags", Resources=[acl["NetworkAclId"]], Tags=[{"Key": "Name", "Value": "main"}])
    named = call("DescribeNetworkAcls", Filters=[{"Name": "tag:Name", "Values": ["main"]}])
    assert [a["NetworkAclId"] for a in named["NetworkAcls"]] == [acl["NetworkAclId"]]
    call("DeleteSubnet", SubnetId=subnet)
    call("DeleteVpc", VpcId=vpc)
    gone = error_of(call, "DescribeNetworkAcls", NetworkAclIds=[acl["NetworkAclId"]])
    assert gone.code == "InvalidNetworkAclID.NotFound"


def test_the_default_vpc_has_one_too(call: Call) -> None:
    acls = call("DescribeNetworkAcls")["NetworkAcls"]
    assert len(acls) == 1 and len(acls[0]["Associations"]) == 3
