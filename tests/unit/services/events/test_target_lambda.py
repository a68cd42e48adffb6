"""EventBridge delivers to a Lambda target through the FunctionInvoker port (a fake here)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from dockyard.core.clock import ManualClock
from dockyard.core.functions import InvokeRefused, InvokeResult
from dockyard.services.events import Events
from dockyard.services.events.targets import kind_of
from dockyard.services.events.validation import target_problem
from dockyard.store.sqlite import SqliteStore
from tests.unit.services.events.test_delivery import call

FN = "arn:aws:lambda:us-east-1:000000000000:function:fn"


class FakeFunctions:
    def __init__(self, refuse: bool = False) -> None:
        self.calls: list[tuple[str, bytes, str, str | None]] = []
        self.refuse = refuse

    def exists(self, function_arn: str) -> bool:
        return function_arn == FN

    async def invoke_event(
        self, function_arn: str, payload: bytes, *, principal: str, source_arn: str | None
    ) -> str:
        if self.refuse:
            raise InvokeRefused("AccessDeniedException", "no")
        self.calls.append((function_arn, payload, principal, source_arn))
        return "req-1"

    async def invoke(
        self, function_arn: str, payload: bytes, *, principal: str, source_arn: str | None
    ) -> InvokeResult:
        raise AssertionError("EventBridge invokes asynchronously")


def test_a_function_arn_is_a_lambda_target() -> None:
    assert kind_of(FN) == "lambda"
    assert kind_of(FN + ":live") == "lambda"
    assert target_problem({"Id": "t", "Arn": FN}) is None


def run_rule(functions: FakeFunctions) -> list[Any]:
    async def go() -> list[Any]:
        events = Events(SqliteStore(":memory:"), ManualClock(start=1_700_000_000.0))
        events.functions = functions
        call(events, "PutRule", Name="r", EventPattern=json.dumps({"source": ["app"]}))
        call(events, "PutTargets", Rule="r", Targets=[{"Id": "t", "Arn": FN}])
        call(events, "PutEvents", Entries=[{"Source": "app", "DetailType": "d", "Detail": "{}"}])
        for _ in range(50):
            await asyncio.sleep(0.01)
            if events.deliveries and (functions.calls or functions.refuse):
                break
        await asyncio.sleep(0.01)
        return events.deliveries

    return asyncio.run(go())


def test_a_matched_event_is_an_asynchronous_invocation_as_the_rule() -> None:
    functions = FakeFunctions()
    deliveries = run_rule(functions)
    assert deliveries[0]["outcome"] == "sent"
    arn, payload, principal, source = functions.calls[0]
    assert (arn, principal) == (FN, "events.amazonaws.com")
    assert source == "arn:aws:events:us-east-1:000000000000:rule/r"
    assert json.loads(payload)["source"] == "app"


def test_a_refused_invocation_is_logged_not_raised() -> None:
    functions = FakeFunctions(refuse=True)
    deliveries = run_rule(functions)
    assert deliveries[0]["outcome"] == "sent"
    assert functions.calls == []
