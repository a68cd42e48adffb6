"""Input the botocore model allows but ELBv2 refuses, through the handlers."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.api.context import RequestContext
from dockyard.core.clock import ManualClock
from dockyard.core.errors import ServiceError
from dockyard.services.elbv2 import Elbv2, provider
from dockyard.store import SqliteStore


def call(operation: str, **params: Any) -> dict[str, Any]:
    elb = Elbv2(SqliteStore(":memory:"), ManualClock(start=1_700_000_000.0))
    ctx = RequestContext("elbv2", operation, "000000000000", "us-east-1", "req-1")
    result = provider(elb).handlers[operation](ctx, params)
    assert isinstance(result, dict)
    return result


@pytest.mark.parametrize(
    ("item", "missing"),
    [({"Priority": 5}, "RuleArn"), ({"RuleArn": "arn:aws:x"}, "Priority")],
)
def test_set_rule_priorities_needs_an_arn_and_a_priority(
    item: dict[str, Any], missing: str
) -> None:
    with pytest.raises(ServiceError) as err:
        call("SetRulePriorities", RulePriorities=[item])
    assert err.value.code == "ValidationError"
    assert f"RulePriorities.member.1.{missing}" in err.value.message
