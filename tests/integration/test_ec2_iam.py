"""EC2 under an auth file: IAM policies decide, by action and by the records' tags, and a
refusal is EC2's UnauthorizedOperation (HTTP 403)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam_support import client, new_user, policy, start_auth_server
from tests.support.server import DockyardProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    started = start_auth_server(tmp_path_factory, "ec2-iam")
    yield started
    started.stop()


def code_of(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_policies_by_action_and_tag(server: DockyardProcess) -> None:
    root = client("ec2", server.endpoint)
    groups = {}
    for env in ("dev", "prod"):
        groups[env] = root.create_security_group(
            GroupName=f"app-{env}",
            Description=env,
            TagSpecifications=[
                {"ResourceType": "security-group", "Tags": [{"Key": "env", "Value": env}]}
            ],
        )["GroupId"]
    key, secret = new_user(
        client("iam", server.endpoint),
        "ec2-dev",
        policy(
            {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "ec2:DeleteSecurityGroup",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/env": "dev"}},
            },
        ),
    )
    user = client("ec2", server.endpoint, key, secret)
    names = {g["GroupName"] for g in user.describe_security_groups()["SecurityGroups"]}
    assert {"app-dev", "app-prod", "default"} <= names
    assert code_of(user.create_vpc, CidrBlock="10.0.0.0/16") == ("UnauthorizedOperation", 403)
    assert code_of(user.create_vpc, CidrBlock="10.0.0.0/16", DryRun=True) == (
        "UnauthorizedOperation",
        403,
    )
    assert code_of(user.describe_vpcs, DryRun=True) == ("DryRunOperation", 412)
    assert code_of(user.delete_security_group, GroupId=groups["prod"]) == (
        "UnauthorizedOperation",
        403,
    )
    user.delete_security_group(GroupId=groups["dev"])
    left = {g["GroupId"] for g in root.describe_security_groups()["SecurityGroups"]}
    assert groups["prod"] in left and groups["dev"] not in left


def test_launch_templates_by_tag_and_created_by(server: DockyardProcess) -> None:
    root = client("ec2", server.endpoint)
    made = {}
    for env in ("dev", "prod"):
        made[env] = root.create_launch_template(
            LaunchTemplateName=f"lt-iam-{env}",
            LaunchTemplateData={"InstanceType": "t3.micro"},
            TagSpecifications=[
                {"ResourceType": "launch-template", "Tags": [{"Key": "env", "Value": env}]}
            ],
        )["LaunchTemplate"]["LaunchTemplateId"]
    key, secret = new_user(
        client("iam", server.endpoint),
        "lt-dev",
        policy(
            {"Effect": "Allow", "Action": "ec2:DescribeLaunchTemplate*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "ec2:CreateLaunchTemplateVersion",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/env": "dev"}},
            },
        ),
    )
    user = client("ec2", server.endpoint, key, secret)
    version = user.create_launch_template_version(
        LaunchTemplateName="lt-iam-dev", LaunchTemplateData={"InstanceType": "m5.large"}
    )["LaunchTemplateVersion"]
    assert version["CreatedBy"].endswith(":user/lt-dev")
    assert code_of(
        user.create_launch_template_version,
        LaunchTemplateId=made["prod"],
        LaunchTemplateData={"InstanceType": "m5.large"},
    ) == ("UnauthorizedOperation", 403)
    assert code_of(user.delete_launch_template, LaunchTemplateId=made["dev"]) == (
        "UnauthorizedOperation",
        403,
    )
