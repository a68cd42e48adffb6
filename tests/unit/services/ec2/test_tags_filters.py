"""Tags on every record (CreateTags, DeleteTags, DescribeTags, TagSpecifications), filters
with wildcards and tag filters, and MaxResults/NextToken pages."""

from __future__ import annotations

from tests.unit.services.ec2.conftest import Call, error_of


def named(name: str, kind: str = "vpc") -> list[dict[str, object]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def test_tag_filters_on_vpcs(call: Call) -> None:
    a = call("CreateVpc", CidrBlock="10.0.0.0/16", TagSpecifications=named("app-a"))["Vpc"]
    b = call("CreateVpc", CidrBlock="10.1.0.0/16", TagSpecifications=named("app-b"))["Vpc"]
    call("CreateVpc", CidrBlock="10.2.0.0/16")
    assert a["Tags"] == [{"Key": "Name", "Value": "app-a"}]

    def ids(*filters: dict[str, object]) -> set[str]:
        return {v["VpcId"] for v in call("DescribeVpcs", Filters=list(filters))["Vpcs"]}

    assert ids({"Name": "tag:Name", "Values": ["app-a"]}) == {a["VpcId"]}
    assert ids({"Name": "tag:Name", "Values": ["app-*"]}) == {a["VpcId"], b["VpcId"]}
    assert ids({"Name": "tag:Name", "Values": ["app-?"]}) == {a["VpcId"], b["VpcId"]}
    assert ids({"Name": "tag-key", "Values": ["Name"]}) == {a["VpcId"], b["VpcId"]}
    assert ids(
        {"Name": "tag:Name", "Values": ["app-*"]}, {"Name": "cidr", "Values": ["10.1.*"]}
    ) == {b["VpcId"]}
    assert ids({"Name": "tag:Name", "Values": ["app-a", "app-b"]}) == {a["VpcId"], b["VpcId"]}


def test_unknown_filter_is_refused(call: Call) -> None:
    err = error_of(call, "DescribeVpcs", Filters=[{"Name": "colour", "Values": ["red"]}])
    assert err.code == "InvalidParameterValue" and "colour" in err.message


def test_create_describe_delete_tags(call: Call) -> None:
    vpc = call("CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = call("CreateSubnet", VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    gid = call("CreateSecurityGroup", GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    call(
        "CreateTags",
        Resources=[vpc, subnet, gid],
        Tags=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "core"}],
    )
    env = call("DescribeTags", Filters=[{"Name": "key", "Values": ["env"]}])["Tags"]
    assert sorted((t["ResourceType"], t["ResourceId"]) for t in env) == sorted(
        [("vpc", vpc), ("subnet", subnet), ("security-group", gid)]
    )
    assert {t["Value"] for t in env} == {"test"}
    call("DeleteTags", Resources=[subnet], Tags=[{"Key": "env", "Value": "other"}])  # no match
    call("DeleteTags", Resources=[vpc], Tags=[{"Key": "env"}])
    left = call("DescribeTags", Filters=[{"Name": "key", "Values": ["env"]}])["Tags"]
    assert {t["ResourceId"] for t in left} == {subnet, gid}
    shown = call("DescribeSubnets", Filters=[{"Name": "tag:team", "Values": ["core"]}])["Subnets"]
    assert [s["SubnetId"] for s in shown] == [subnet]


def test_tags_on_rules(call: Call) -> None:
    gid = call("CreateSecurityGroup", GroupName="g", Description="g")["GroupId"]
    rule = call("DescribeSecurityGroupRules", Filters=[{"Name": "group-id", "Values": [gid]}])[
        "SecurityGroupRules"
    ][0]["SecurityGroupRuleId"]
    call("CreateTags", Resources=[rule], Tags=[{"Key": "why", "Value": "egress"}])
    rules = call("DescribeSecurityGroupRules", Filters=[{"Name": "tag:why", "Values": ["egress"]}])
    assert [r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"]] == [rule]


def test_tag_errors(call: Call) -> None:
    vpc = call("CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assert (
        error_of(
            call,
            "CreateTags",
            Resources=["vpc-00000000000000000"],
            Tags=[{"Key": "a", "Value": "b"}],
        ).code
        == "InvalidVpcID.NotFound"
    )
    assert (
        error_of(call, "CreateTags", Resources=["bogus"], Tags=[{"Key": "a", "Value": "b"}]).code
        == "InvalidID"
    )
    assert (
        error_of(call, "CreateTags", Resources=[vpc], Tags=[{"Key": "aws:x", "Value": "b"}]).code
        == "InvalidParameterValue"
    )
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error_of(call, "CreateTags", Resources=[vpc], Tags=many).code == "TagLimitExceeded"
    wrong = error_of(
        call, "CreateVpc", CidrBlock="10.9.0.0/16", TagSpecifications=named("x", "subnet")
    )
    assert wrong.code == "InvalidParameterValue"


def test_pages_cover_everything_once(call: Call) -> None:
    for i in range(7):
        call("CreateVpc", CidrBlock=f"10.{i}.0.0/16")
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        extra = {"NextToken": token} if token else {}
        out = call("DescribeVpcs", MaxResults=5, **extra)
        seen += [v["VpcId"] for v in out["Vpcs"]]
        pages += 1
        token = out.get("NextToken")
        if not token:
            break
    assert pages == 2 and len(seen) == len(set(seen)) == 8  # with the default VPC
    assert error_of(call, "DescribeVpcs", MaxResults=4).code == "InvalidParameterValue"
    assert error_of(call, "DescribeVpcs", NextToken="!!").code == "InvalidParameterValue"
