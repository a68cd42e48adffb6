"""What EC2 Auto Scaling operations are authorized on: the group's ARN (with its tags), the
`*` form of a group not created yet, `*` for Describe*, iam:PassRole for roles passed."""

from __future__ import annotations

from typing import Any

from dockyard.api.access import Access, AccessRequest
from dockyard.services.ec2autoscaling import provider
from tests.unit.services.ec2autoscaling.fakes import SCOPE, add_instance, make_group, world


def pairs(w: Any, operation: str, **params: Any) -> list[Access]:
    check = provider(w.asg).access
    assert check is not None
    return list(check(AccessRequest(SCOPE.account_id, SCOPE.region, operation, params)))


def test_a_named_group_is_its_arn_with_its_tags() -> None:
    w = world()
    g = make_group(w, Tags=[{"Key": "team", "Value": "a"}])
    (found,) = pairs(w, "SetDesiredCapacity", AutoScalingGroupName="web", DesiredCapacity=2)
    assert (found.action, found.resource) == ("autoscaling:SetDesiredCapacity", g.arn)
    assert found.tags == {"team": "a"}


def test_a_group_being_created_is_the_wildcard_form_of_its_arn() -> None:
    w = world()
    found = pairs(w, "CreateAutoScalingGroup", AutoScalingGroupName="new",
                  ServiceLinkedRoleARN="arn:aws:iam::123456789012:role/aws-service-role/"
                  "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_custom")  # fmt: skip
    assert [(a.action, a.resource) for a in found] == [
        ("autoscaling:CreateAutoScalingGroup",
         "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:"
         "autoScalingGroupName/new"),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/aws-service-role/"
         "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_custom"),
    ]  # fmt: skip
    assert found[1].context == {"iam:passedtoservice": ["autoscaling.amazonaws.com"]}


def test_instance_operations_act_on_the_instances_group_and_describes_on_star() -> None:
    w = world()
    g = make_group(w)
    add_instance(w, "web", "i-1")
    (found,) = pairs(w, "TerminateInstanceInAutoScalingGroup", InstanceId="i-1",
                     ShouldDecrementDesiredCapacity=False)  # fmt: skip
    assert found.resource == g.arn
    (found,) = pairs(w, "DescribeAutoScalingGroups")
    assert (found.action, found.resource) == ("autoscaling:DescribeAutoScalingGroups", "*")
    tagged = pairs(w, "CreateOrUpdateTags", Tags=[{"ResourceId": "web", "Key": "k"}])
    assert [a.resource for a in tagged] == [g.arn]
