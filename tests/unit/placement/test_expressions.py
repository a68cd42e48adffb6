"""The cluster query language over an instance's facts."""

from __future__ import annotations

import pytest

from dockyard.placement import ExpressionError, compile_expression

FACTS = {
    "attribute:ecs.instance-type": "t2.small",
    "attribute:ecs.availability-zone": "us-east-1a",
    "attribute:gpu": None,
    "runningTasksCount": "3",
    "ec2InstanceId": "i-123",
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("attribute:ecs.instance-type == t2.small", True),
        ("attribute:ecs.instance-type equals t2.large", False),
        ("attribute:ecs.instance-type != t2.large", True),
        ("attribute:ecs.instance-type =~ t2.*", True),
        ("attribute:ecs.instance-type !~ t2.*", False),
        ("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", True),
        ("attribute:ecs.availability-zone not_in [us-east-1a]", False),
        ("attribute:gpu exists", True),
        ("attribute:tpu exists", False),
        ("attribute:tpu !exists", True),
        ("attribute:tpu == x", False),
        ("attribute:tpu != x", True),
        ("runningTasksCount > 2", True),
        ("runningTasksCount <= 2", False),
        ("runningTasksCount >= 3 and ec2InstanceId == i-123", True),
        ("runningTasksCount > 5 or ec2InstanceId == i-123", True),
        ("not(attribute:gpu exists)", False),
        ("(attribute:gpu exists or attribute:tpu exists) and runningTasksCount < 10", True),
        ("attribute:ecs.instance-type == t2.small AND attribute:gpu exists", True),
    ],
)
def test_expressions(expression: str, expected: bool) -> None:
    assert compile_expression(expression)(FACTS) is expected


@pytest.mark.parametrize(
    "expression",
    ["", "attribute:x", "attribute:x ~~ y", "attribute:x == y and", "(attribute:x exists",
     "attribute:x in [a, b", "attribute:x exists )"],
)  # fmt: skip
def test_bad_expressions(expression: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(expression)
