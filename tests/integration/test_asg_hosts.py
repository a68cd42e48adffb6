"""EC2 Auto Scaling through a real server, to boto3 and the AWS CLI, launching through EC2.

Without hosts (`--no-hosts`) the API answers and its group launches fail with EC2's reason
as the activity's status message; a CloudWatch alarm whose action is a group's scaling
policy changes that group's desired capacity (EC2 Auto Scaling, not Application Auto
Scaling, takes its policies' ARNs). With hosts, a group of two over two subnets in two
zones runs an instance in each, and one terminated is replaced; skipped, naming why, on a
server without hosts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client
from tests.integration.ec2_hosts import (
    BOOT,
    Cleanup,
    cleanup,
    own_vpc,
    plain_image,
    skip_without_hosts,
    state_of,
)
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

__all__ = ["cleanup"]  # the fixture


def clients(server: DockyardProcess, key: str | None = None) -> tuple[Any, Any, Any]:
    """EC2, EC2 Auto Scaling and CloudWatch clients of one account (the AWS CLI's with
    `test`; a fresh one by default, on the shared server)."""
    key = key or str(uuid.uuid4().int)[:12].rjust(12, "1")
    return tuple(  # type: ignore[return-value]
        make_client(service, server.endpoint, access_key=key)
        for service in ("ec2", "autoscaling", "cloudwatch")
    )


def two_zones(ec2: Any) -> list[dict[str, Any]]:
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    by_zone = {s["AvailabilityZone"]: s for s in subnets["Subnets"]}
    return [by_zone[z] for z in sorted(by_zone)[:2]]


def template(ec2: Any, name: str) -> str:
    out = ec2.create_launch_template(
        LaunchTemplateName=name,
        LaunchTemplateData={
            "ImageId": plain_image(ec2),
            "InstanceType": "t3.micro",
            "UserData": "IyEvYmluL3NoCmV4ZWMgc2xlZXAgMzYwMAo=",
        },
    )
    template_id: str = out["LaunchTemplate"]["LaunchTemplateId"]
    return template_id


def activities(asg: Any, group: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = asg.describe_scaling_activities(AutoScalingGroupName=group)[
        "Activities"
    ]
    return found


def test_without_hosts_launches_fail_naming_why(
    fresh_server: Callable[..., DockyardProcess],
) -> None:
    server = fresh_server("--no-hosts", "--no-local-agent")
    ec2, asg, _ = clients(server, "test")
    template_id = template(ec2, "web")
    subnets = two_zones(ec2)
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web", MinSize=1, MaxSize=2,
        LaunchTemplate={"LaunchTemplateId": template_id, "Version": "$Latest"},
        VPCZoneIdentifier=",".join(s["SubnetId"] for s in subnets),
    )  # fmt: skip
    failed = wait_for(
        lambda: [a for a in activities(asg, "web") if a["StatusCode"] == "Failed"],
        30.0, "a failed launch activity",
    )  # fmt: skip
    assert "no host runtime" in failed[0]["StatusMessage"]
    assert "--no-hosts" in failed[0]["StatusMessage"]
    (group,) = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"]
    assert group["Instances"] == [] and group["DesiredCapacity"] == 1
    assert ec2.describe_instances()["Reservations"] == []
    with pytest.raises(ClientError) as err:
        asg.create_auto_scaling_group(
            AutoScalingGroupName="broken", MinSize=1, MaxSize=1,
            LaunchTemplate={"LaunchTemplateId": "lt-0123456789abcdef0"},
            VPCZoneIdentifier=subnets[0]["SubnetId"],
        )  # fmt: skip
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "lt-0123456789abcdef0, does not exist" in err.value.response["Error"]["Message"]
    listed = aws_json(server.endpoint, "autoscaling", "describe-auto-scaling-groups",
                      "--query", "AutoScalingGroups[].AutoScalingGroupName")  # fmt: skip
    assert "web" in listed


def test_an_alarm_runs_a_groups_scaling_policy(
    fresh_server: Callable[..., DockyardProcess],
) -> None:
    server = fresh_server("--no-hosts", "--no-local-agent")
    ec2, asg, cloudwatch = clients(server)
    template_id = template(ec2, "scaled")
    asg.create_auto_scaling_group(
        AutoScalingGroupName="scaled", MinSize=1, MaxSize=5, DesiredCapacity=1,
        LaunchTemplate={"LaunchTemplateId": template_id},
        VPCZoneIdentifier=two_zones(ec2)[0]["SubnetId"],
    )  # fmt: skip
    policy = asg.put_scaling_policy(
        AutoScalingGroupName="scaled", PolicyName="out", PolicyType="SimpleScaling",
        AdjustmentType="ChangeInCapacity", ScalingAdjustment=2, Cooldown=0,
    )  # fmt: skip
    cloudwatch.put_metric_alarm(
        AlarmName="busy", Namespace="Test", MetricName="Load", Statistic="Average",
        Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold", AlarmActions=[policy["PolicyARN"]],
    )  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName="busy", StateValue="ALARM", StateReason="test")

    def desired() -> int:
        groups = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["scaled"])
        return int(groups["AutoScalingGroups"][0]["DesiredCapacity"])

    assert wait_for(lambda: desired() == 3, 30.0, "the policy to scale the group out")
    history = cloudwatch.describe_alarm_history(AlarmName="busy")["AlarmHistoryItems"]
    assert history


# -- with hosts ----------------------------------------------------------------------------


def hosts_or_skip(ec2: Any, subnet: str) -> None:
    try:
        out = ec2.run_instances(ImageId=plain_image(ec2), MinCount=1, MaxCount=1,
                                SubnetId=subnet, UserData="#!/bin/sh\nexec sleep 60\n")  # fmt: skip
    except ClientError as exc:
        skip_without_hosts(exc)
        raise
    ec2.terminate_instances(InstanceIds=[out["Instances"][0]["InstanceId"]])


def test_a_group_runs_an_instance_in_each_zone_and_replaces_one_lost(
    dockyard: DockyardProcess, cleanup: Cleanup
) -> None:
    ec2, asg, _ = clients(dockyard)
    cleanup.autoscaling.append(asg)
    cleanup.ec2.append(ec2)
    net = own_vpc(ec2)
    subnets = net.subnets
    hosts_or_skip(ec2, subnets[0]["SubnetId"])
    template_id = template(ec2, "spread")
    asg.create_auto_scaling_group(
        AutoScalingGroupName="spread", MinSize=2, MaxSize=2, DesiredCapacity=2,
        LaunchTemplate={"LaunchTemplateId": template_id, "Version": "$Default"},
        VPCZoneIdentifier=",".join(s["SubnetId"] for s in subnets),
        Tags=[{"Key": "team", "Value": "web", "PropagateAtLaunch": True}],
    )  # fmt: skip

    def in_service() -> list[dict[str, Any]]:
        groups = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["spread"])
        instances = groups["AutoScalingGroups"][0]["Instances"]
        found = [i for i in instances if i["LifecycleState"] == "InService"]
        return found if len(found) == 2 else []

    first = wait_for(in_service, BOOT, "two instances in service", 0.5)
    assert {i["AvailabilityZone"] for i in first} == {s["AvailabilityZone"] for s in subnets}
    ids = [i["InstanceId"] for i in first]
    reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    described = [i for r in reservations for i in r["Instances"]]
    assert {i["State"]["Name"] for i in described} == {"running"}
    assert {i["SubnetId"] for i in described} == {s["SubnetId"] for s in subnets}
    tags = [{t["Key"]: t["Value"] for t in i["Tags"]} for i in described]
    assert {t.get("aws:autoscaling:groupName") for t in tags} == {"spread"}
    assert {t.get("team") for t in tags} == {"web"}

    lost = ids[0]
    ec2.terminate_instances(InstanceIds=[lost])
    replaced = wait_for(
        lambda: (now := in_service()) and lost not in {i["InstanceId"] for i in now} and now,
        BOOT, "a replacement in service", 0.5,
    )  # fmt: skip
    assert {i["AvailabilityZone"] for i in replaced} == {s["AvailabilityZone"] for s in subnets}
    assert state_of(ec2, lost) == "terminated"
    (taken_out,) = [
        a for a in activities(asg, "spread")
        if a["Description"] == f"Terminating EC2 instance: {lost}"
    ]  # fmt: skip
    assert "EC2 health check indicating it has been terminated" in taken_out["Cause"]
