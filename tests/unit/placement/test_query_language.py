"""The rest of the cluster query language: symbolic operators, quoting, task:group, dates,
versions, and which expressions depend on the tasks placed."""

from __future__ import annotations

import pytest

from dockyard.placement import ExpressionError, compile_query
from dockyard.placement.expressions import Facts

FACTS: Facts = {
    "attribute:ecs.instance-type": "t2.small",
    "attribute:ecs.availability-zone": "us-east-1a",
    "attribute:stack": "prod",
    "ec2InstanceId": "i-abcd1234",
    "agentVersion": "1.14.2",
    "registeredAt": repr(1_529_360_908.0),  # 2018-06-18T22:28:28Z
    "runningTasksCount": "3",
    "task:group": frozenset({"service:production", "family:web"}),
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("attribute:ecs.instance-type =~ t2.* && attribute:stack == prod", True),
        ("attribute:ecs.instance-type =~ m5.* || attribute:stack == prod", True),
        ("!(attribute:stack == prod)", False),
        ("!attribute:stack exists", False),
        ("not(attribute:ecs.instance-type =~ t2.*)", False),
        ("ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", True),
        ('ec2InstanceId in ["i-0", "i-1"]', False),
        ("attribute:ecs.instance-type in [t2.small, t2.medium]", True),
        ("attribute:ecs.instance-type =~ t?.small", True),
        ("attribute:ecs.availability-zone matches us-east-1*", True),
        ("attribute:ecs.availability-zone not_matches us-east-1*", False),
        ("task:group == service:production", True),
        ("task:group == service:database", False),
        ("not(task:group == service:database)", True),
        ("task:group != service:production", False),
        ("task:group =~ family:*", True),
        ("task:group in [service:a, family:web]", True),
        ("task:group exists", True),
        ("registeredAt >= 2018-06-18", True),
        ("registeredAt < 2018-06-18T22:28:28Z", False),
        ("registeredAt <= 2018-06-18T22:28:28+00:00", True),
        ("agentVersion >= 1.9.0", True),  # versions compare by number, not as text
        ("agentVersion < 1.14.10", True),
        ("runningTasksCount greater_than 2 and runningTasksCount less_than_equal 3", True),
        (
            "(attribute:ecs.instance-type == t2.micro or attribute:stack == prod) and "
            "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]",
            True,
        ),
        ("attribute:stack == prod or attribute:x exists and attribute:y exists", True),
        ("attribute:stack == 'prod'", True),
        ("attribute:stack == 'a and b'", False),
    ],
)
def test_expression(expression: str, expected: bool) -> None:
    assert compile_query(expression)(FACTS) is expected


def test_task_group_on_an_empty_instance() -> None:
    empty: Facts = {"attribute:stack": "prod"}
    assert compile_query("task:group == service:x")(empty) is False
    assert compile_query("not(task:group == service:x)")(empty) is True
    assert compile_query("task:group !exists")(empty) is True


@pytest.mark.parametrize(
    ("expression", "static"),
    [
        ("attribute:stack == prod", True),
        ("ec2InstanceId in [i-1] and agentVersion > 1.0.0", True),
        ("attribute:stack == prod and task:group == service:x", False),
        ("runningTasksCount < 3", False),
    ],
)
def test_static_expressions_are_known(expression: str, static: bool) -> None:
    assert compile_query(expression).static is static


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        ("instanceType == t2.small", "unknown subject"),
        ("attribute: == x", "unknown subject"),
        ("attribute:x ~~ y", "unknown operator"),
        ("attribute:x == (", "expected a value"),
        ("attribute:x == y &&", "ends too early"),
        ("registeredAt > yesterday", "registeredAt"),
        ("attribute:x == " + "y" * 2000, "longer than 2000"),
        ("(attribute:x exists", "expected ')'"),
    ],
)
def test_bad_expressions_say_why(expression: str, complaint: str) -> None:
    with pytest.raises(ExpressionError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        compile_query(expression)
