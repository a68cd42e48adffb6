"""What each EC2 operation is authorized on: the record's ARN with its tags, `*` otherwise."""

from __future__ import annotations

from typing import Any

from dockyard.api.access import Access, AccessRequest
from dockyard.services.ec2 import Ec2
from dockyard.services.ec2.access import access
from tests.unit.services.ec2.conftest import ACCOUNT, REGION, Call


def pairs(ec2: Ec2, operation: str, **params: Any) -> list[Access]:
    return list(access(ec2)(AccessRequest(ACCOUNT, REGION, operation, params)))


def arn(kind: str, resource_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{resource_id}"


def test_records_are_authorized_by_arn_with_their_tags(ec2: Ec2, call: Call) -> None:
    vpc = call("CreateVpc", CidrBlock="10.0.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "env", "Value": "prod"}]},
    ])["Vpc"]["VpcId"]  # fmt: skip
    (pair,) = pairs(ec2, "DeleteVpc", VpcId=vpc)
    assert (pair.action, pair.resource, pair.tags) == (
        "ec2:DeleteVpc",
        arn("vpc", vpc),
        {"env": "prod"},
    )
    gid = call("CreateSecurityGroup", GroupName="web", Description="web")["GroupId"]
    by_name = pairs(ec2, "AuthorizeSecurityGroupIngress", GroupName="web")
    assert [p.resource for p in by_name] == [arn("security-group", gid)]
    igw = call("CreateInternetGateway")["InternetGateway"]["InternetGatewayId"]
    both = pairs(ec2, "AttachInternetGateway", InternetGatewayId=igw, VpcId=vpc)
    assert [p.resource for p in both] == [arn("internet-gateway", igw), arn("vpc", vpc)]
    tagged = pairs(ec2, "CreateTags", Resources=[vpc, gid], Tags=[])
    assert [p.resource for p in tagged] == [arn("vpc", vpc), arn("security-group", gid)]


def test_describes_and_unknown_names_act_on_star(ec2: Ec2) -> None:
    assert [p.resource for p in pairs(ec2, "DescribeVpcs")] == ["*"]
    assert [p.resource for p in pairs(ec2, "CreateVpc", CidrBlock="10.0.0.0/16")] == ["*"]
    assert [p.resource for p in pairs(ec2, "DeleteSecurityGroup", GroupName="nope")] == ["*"]


def test_launch_templates_are_authorized_by_arn_by_id_or_name(ec2: Ec2, call: Call) -> None:
    lt = call(
        "CreateLaunchTemplate",
        LaunchTemplateName="web",
        LaunchTemplateData={"InstanceType": "t3.micro"},
        TagSpecifications=[
            {"ResourceType": "launch-template", "Tags": [{"Key": "env", "Value": "prod"}]}
        ],
    )["LaunchTemplate"]["LaunchTemplateId"]
    for params in ({"LaunchTemplateId": lt}, {"LaunchTemplateName": "web"}):
        (pair,) = pairs(ec2, "DeleteLaunchTemplate", **params)
        assert (pair.resource, pair.tags) == (arn("launch-template", lt), {"env": "prod"})
    created = pairs(ec2, "CreateLaunchTemplate", LaunchTemplateName="other")
    assert [p.resource for p in created] == ["*"]
    assert [p.resource for p in pairs(ec2, "DescribeImages")] == ["*"]
