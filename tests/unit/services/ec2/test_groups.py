"""Security groups and rules: default egress, duplicates, revokes, references, deletes."""

from __future__ import annotations

from typing import Any

from tests.unit.services.ec2.conftest import Call, error_of

HTTP = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


def vpc_of(call: Call) -> str:
    vpc_id: str = call("CreateVpc", CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return vpc_id


def new_group(call: Call, vpc: str, name: str = "web") -> str:
    group_id: str = call("CreateSecurityGroup", GroupName=name, Description="web tier", VpcId=vpc)[
        "GroupId"
    ]
    return group_id


def group(call: Call, group_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = call("DescribeSecurityGroups", GroupIds=[group_id])["SecurityGroups"][0]
    return shown


def test_new_group_allows_everything_out(call: Call) -> None:
    vpc = vpc_of(call)
    g = group(call, new_group(call, vpc))
    assert (g["GroupName"], g["Description"], g["VpcId"]) == ("web", "web tier", vpc)
    assert g["IpPermissions"] == []
    assert g["IpPermissionsEgress"] == [
        {
            "IpProtocol": "-1",
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            "Ipv6Ranges": [],
            "UserIdGroupPairs": [],
            "PrefixListIds": [],
        }
    ]


def test_group_without_vpc_goes_to_the_default_vpc(call: Call) -> None:
    default = call("DescribeVpcs", Filters=[{"Name": "is-default", "Values": ["true"]}])
    gid = call("CreateSecurityGroup", GroupName="app", Description="app")["GroupId"]
    assert group(call, gid)["VpcId"] == default["Vpcs"][0]["VpcId"]
    by_name = call("DescribeSecurityGroups", GroupNames=["app"])["SecurityGroups"]
    assert [g["GroupId"] for g in by_name] == [gid]


def test_duplicate_and_reserved_names(call: Call) -> None:
    vpc = vpc_of(call)
    new_group(call, vpc)
    err = error_of(call, "CreateSecurityGroup", GroupName="web", Description="x", VpcId=vpc)
    assert err.code == "InvalidGroup.Duplicate" and vpc in err.message
    new_group(call, vpc_of_other(call))  # the same name in another VPC is fine
    assert (
        error_of(call, "CreateSecurityGroup", GroupName="default", Description="x", VpcId=vpc).code
        == "InvalidGroup.Reserved"
    )
    assert (
        error_of(call, "CreateSecurityGroup", GroupName="sg-1", Description="x", VpcId=vpc).code
        == "InvalidParameterValue"
    )
    assert error_of(call, "CreateSecurityGroup", GroupName="x", VpcId=vpc).code == (
        "MissingParameter"
    )


def vpc_of_other(call: Call) -> str:
    vpc_id: str = call("CreateVpc", CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    return vpc_id


def test_authorize_ingress_then_duplicate_then_revoke(call: Call) -> None:
    gid = new_group(call, vpc_of(call))
    out = call("AuthorizeSecurityGroupIngress", GroupId=gid, IpPermissions=[HTTP])
    (rule,) = out["SecurityGroupRules"]
    assert out["Return"] is True
    assert (
        rule["IsEgress"],
        rule["IpProtocol"],
        rule["FromPort"],
        rule["ToPort"],
        rule["CidrIpv4"],
    ) == (False, "tcp", 80, 80, "0.0.0.0/0")
    assert rule["SecurityGroupRuleId"].startswith("sgr-")
    assert group(call, gid)["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    err = error_of(call, "AuthorizeSecurityGroupIngress", GroupId=gid, IpPermissions=[HTTP])
    assert err.code == "InvalidPermission.Duplicate" and "0.0.0.0/0" in err.message
    call("RevokeSecurityGroupIngress", GroupId=gid, IpPermissions=[HTTP])
    assert group(call, gid)["IpPermissions"] == []
    again = error_of(call, "RevokeSecurityGroupIngress", GroupId=gid, IpPermissions=[HTTP])
    assert again.code == "InvalidPermission.NotFound"


def test_top_level_cidr_form_and_protocol_names(call: Call) -> None:
    gid = new_group(call, vpc_of(call))
    call(
        "AuthorizeSecurityGroupIngress",
        GroupId=gid,
        IpProtocol="TCP",
        FromPort=22,
        ToPort=22,
        CidrIp="10.0.0.0/8",
    )
    call(
        "AuthorizeSecurityGroupIngress",
        GroupId=gid,
        IpPermissions=[
            {
                "IpProtocol": "17",
                "FromPort": 53,
                "ToPort": 53,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            },
        ],
    )
    perms = group(call, gid)["IpPermissions"]
    assert [(p["IpProtocol"], p["FromPort"]) for p in perms] == [("tcp", 22), ("udp", 53)]


def test_bad_ports_and_protocols(call: Call) -> None:
    gid = new_group(call, vpc_of(call))
    for perm in (
        {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 90, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "bogus", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "300.0.0.0/0"}]},
    ):
        err = error_of(call, "AuthorizeSecurityGroupIngress", GroupId=gid, IpPermissions=[perm])
        assert err.code == "InvalidParameterValue", perm


def test_rules_by_id_and_egress(call: Call) -> None:
    gid = new_group(call, vpc_of(call))
    rules = call("DescribeSecurityGroupRules", Filters=[{"Name": "group-id", "Values": [gid]}])
    (egress,) = rules["SecurityGroupRules"]
    assert (egress["IsEgress"], egress["IpProtocol"], egress["CidrIpv4"]) == (
        True,
        "-1",
        "0.0.0.0/0",
    )
    call(
        "RevokeSecurityGroupEgress",
        GroupId=gid,
        SecurityGroupRuleIds=[egress["SecurityGroupRuleId"]],
    )
    assert group(call, gid)["IpPermissionsEgress"] == []
    call(
        "AuthorizeSecurityGroupEgress",
        GroupId=gid,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            },
        ],
    )
    assert group(call, gid)["IpPermissionsEgress"][0]["FromPort"] == 443
    err = error_of(
        call, "DescribeSecurityGroupRules", SecurityGroupRuleIds=["sgr-00000000000000000"]
    )
    assert err.code == "InvalidSecurityGroupRuleId.NotFound"


def test_a_referenced_group_cannot_be_deleted(call: Call) -> None:
    vpc = vpc_of(call)
    web, db = new_group(call, vpc, "web"), new_group(call, vpc, "db")
    call(
        "AuthorizeSecurityGroupIngress",
        GroupId=db,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": web}],
            },
        ],
    )
    pairs = group(call, db)["IpPermissions"][0]["UserIdGroupPairs"]
    assert [p["GroupId"] for p in pairs] == [web]
    assert error_of(call, "DeleteSecurityGroup", GroupId=web).code == "DependencyViolation"
    call("DeleteSecurityGroup", GroupId=db)
    call("DeleteSecurityGroup", GroupId=web)
    assert error_of(call, "DescribeSecurityGroups", GroupIds=[web]).code == "InvalidGroup.NotFound"


def test_the_default_group(call: Call) -> None:
    vpc = vpc_of(call)
    (default,) = call(
        "DescribeSecurityGroups",
        Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "group-name", "Values": ["default"]},
        ],
    )["SecurityGroups"]
    assert default["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == default["GroupId"]
    err = error_of(call, "DeleteSecurityGroup", GroupId=default["GroupId"])
    assert err.code == "CannotDelete"


def test_group_in_another_vpc_cannot_be_referenced(call: Call) -> None:
    web = new_group(call, vpc_of(call))
    other = new_group(call, vpc_of_other(call), "other")
    err = error_of(
        call,
        "AuthorizeSecurityGroupIngress",
        GroupId=web,
        IpPermissions=[
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": other}]},
        ],
    )
    assert err.code == "InvalidParameterValue"


def test_unknown_group(call: Call) -> None:
    err = error_of(
        call, "AuthorizeSecurityGroupIngress", GroupId="sg-00000000000000000", IpPermissions=[HTTP]
    )
    assert err.code == "InvalidGroup.NotFound"
    assert error_of(call, "DeleteSecurityGroup", GroupId="bad").code == "InvalidGroupId.Malformed"


def test_at_most_sixty_rules_each_way(call: Call) -> None:
    gid = new_group(call, vpc_of(call))
    ranges = [{"CidrIp": f"10.0.{i}.0/24"} for i in range(60)]
    call(
        "AuthorizeSecurityGroupIngress",
        GroupId=gid,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": ranges}],
    )
    err = error_of(
        call,
        "AuthorizeSecurityGroupIngress",
        GroupId=gid,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2,
                "ToPort": 2,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            },
        ],
    )
    assert err.code == "RulesPerSecurityGroupLimitExceeded"
    call(
        "AuthorizeSecurityGroupEgress",
        GroupId=gid,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2,
                "ToPort": 2,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            },
        ],
    )


def test_protocol_numbers_must_be_ascii_digits(call: Call) -> None:
    gid = new_group(call, vpc_of(call))
    perm = {"IpProtocol": "²", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    err = error_of(call, "AuthorizeSecurityGroupIngress", GroupId=gid, IpPermissions=[perm])
    assert err.code == "InvalidParameterValue"


def test_update_rule_descriptions(call: Call) -> None:
    gid = new_group(call, vpc_of(call))
    call("AuthorizeSecurityGroupIngress", GroupId=gid, IpPermissions=[HTTP])
    described = {**HTTP, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "the web"}]}
    call("UpdateSecurityGroupRuleDescriptionsIngress", GroupId=gid, IpPermissions=[described])
    assert group(call, gid)["IpPermissions"][0]["IpRanges"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "the web"}
    ]
    egress = group(call, gid)["IpPermissionsEgress"]
    rules = call("DescribeSecurityGroupRules", Filters=[{"Name": "group-id", "Values": [gid]}])
    out = next(r for r in rules["SecurityGroupRules"] if r["IsEgress"])
    call("UpdateSecurityGroupRuleDescriptionsEgress", GroupId=gid, SecurityGroupRuleDescriptions=[
        {"SecurityGroupRuleId": out["SecurityGroupRuleId"], "Description": "anywhere"},
    ])  # fmt: skip
    assert group(call, gid)["IpPermissionsEgress"][0]["IpRanges"] == [
        {"CidrIp": "0.0.0.0/0", "Description": "anywhere"}
    ]
    assert egress != group(call, gid)["IpPermissionsEgress"]
    other = {**HTTP, "FromPort": 81, "ToPort": 81}
    err = error_of(call, "UpdateSecurityGroupRuleDescriptionsIngress", GroupId=gid,
                   IpPermissions=[other])  # fmt: skip
    assert err.code == "InvalidPermission.NotFound"


def test_modify_rules_in_place(call: Call) -> None:
    gid = new_group(call, vpc_of(call))
    (rule,) = call("AuthorizeSecurityGroupIngress", GroupId=gid, IpPermissions=[HTTP])[
        "SecurityGroupRules"
    ]
    call("ModifySecurityGroupRules", GroupId=gid, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule["SecurityGroupRuleId"],
        "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                              "CidrIpv4": "10.0.0.0/8", "Description": "internal"},
    }])  # fmt: skip
    (shown,) = call(
        "DescribeSecurityGroupRules", SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]]
    )["SecurityGroupRules"]
    assert (shown["FromPort"], shown["CidrIpv4"], shown["Description"], shown["IsEgress"]) == (
        8080, "10.0.0.0/8", "internal", False,
    )  # fmt: skip
    two_peers = error_of(call, "ModifySecurityGroupRules", GroupId=gid, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule["SecurityGroupRuleId"],
        "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "10.0.0.0/8",
                              "CidrIpv6": "::/0"},
    }])  # fmt: skip
    assert two_peers.code == "InvalidParameterValue"
    unknown = error_of(call, "ModifySecurityGroupRules", GroupId=gid, SecurityGroupRules=[{
        "SecurityGroupRuleId": "sgr-00000000000000000",
        "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv4": "10.0.0.0/8"},
    }])  # fmt: skip
    assert unknown.code == "InvalidSecurityGroupRuleId.NotFound"
