"""The alarm controller on a ManualClock: evaluation each period, actions, events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from dockyard.controllers.alarms import AlarmController
from dockyard.core.clock import ManualClock
from dockyard.core.metrics import Datum
from dockyard.core.scaling import AlarmFiring
from dockyard.core.scope import Scope
from dockyard.services.cloudwatch.service import CloudWatch
from dockyard.store.sqlite import SqliteStore

SCOPE = Scope("000000000000", "us-east-1")
POLICY = (
    "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:x:"
    "resource/ecs/service/c/s:policyName/up"
)


class Recorder:
    def __init__(self) -> None:
        self.fired: list[tuple[str, AlarmFiring]] = []
        self.events: list[dict[str, Any]] = []

    def invoke(self, account_id: str, region: str, action_arn: str, firing: AlarmFiring) -> bool:
        self.fired.append((action_arn, firing))
        return True

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def scenario(body: Callable[[CloudWatch, ManualClock, Recorder, Callable[[float], Awaitable[None]]],
                            Awaitable[None]]) -> None:  # fmt: skip
    async def main() -> None:
        clock = ManualClock(start=1_700_000_000.0)
        cw = CloudWatch(SqliteStore(":memory:"), clock)
        rec = Recorder()
        ctl = AlarmController(cw, clock, [rec], rec)
        ctl.start()

        async def advance(seconds: float) -> None:
            step = 5.0
            while seconds > 0:
                clock.advance(min(step, seconds))
                seconds -= step
                for _ in range(20):
                    await asyncio.sleep(0)

        try:
            await body(cw, clock, rec, advance)
        finally:
            await ctl.stop()

    asyncio.run(main())


def put(cw: CloudWatch, clock: ManualClock, value: float) -> None:
    cw.publish(SCOPE.account_id, SCOPE.region, [
        Datum("App", "Queue", (("Name", "jobs"),), clock.now(), value=value)
    ])  # fmt: skip


ALARM = {
    "Namespace": "App", "MetricName": "Queue", "Dimensions": [{"Name": "Name", "Value": "jobs"}],
    "Statistic": "Average", "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2,
    "Threshold": 10.0, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": [POLICY],
}  # fmt: skip


def test_alarm_fires_after_m_of_n_periods_and_runs_actions() -> None:
    async def body(cw: CloudWatch, clock: ManualClock, rec: Recorder, advance: Any) -> None:
        alarm = cw.alarms.put(SCOPE, "q-high", dict(ALARM), composite=False)
        await advance(1)
        assert alarm.state == "INSUFFICIENT_DATA"
        for value in (50, 5, 50):
            put(cw, clock, value)
            await advance(60)
        assert alarm.state == "ALARM"
        assert "2 out of the last 3 datapoints" in alarm.state_reason
        assert rec.fired and rec.fired[0][0] == POLICY
        assert rec.fired[0][1].state == "ALARM"
        event = rec.events[-1]
        assert event["detail-type"] == "CloudWatch Alarm State Change"
        assert event["source"] == "aws.cloudwatch"
        assert event["resources"] == [alarm.arn]
        assert event["detail"]["state"]["value"] == "ALARM"
        assert event["detail"]["previousState"]["value"] == "OK"
        # Scaling actions repeat every period while the alarm stays in ALARM.
        fired = len(rec.fired)
        put(cw, clock, 50)
        await advance(60)
        assert len(rec.fired) == fired + 1
        # Low values bring it back to OK; no OK actions configured.
        for _ in range(3):
            put(cw, clock, 1)
            await advance(60)
        assert alarm.state == "OK"

    scenario(body)


def test_missing_data_goes_insufficient_and_disabled_actions_do_not_run() -> None:
    async def body(cw: CloudWatch, clock: ManualClock, rec: Recorder, advance: Any) -> None:
        alarm = cw.alarms.put(SCOPE, "q", {**ALARM, "ActionsEnabled": False}, composite=False)
        put(cw, clock, 50)
        await advance(60)
        put(cw, clock, 50)
        await advance(60)
        assert alarm.state == "ALARM"
        assert rec.fired == []
        await advance(60 * 10)
        assert alarm.state == "INSUFFICIENT_DATA"
        history = [h.summary for h in cw.alarms.history_of(SCOPE)]
        # Once a datapoint leaves the range the last one alone no longer makes 2 of 3.
        assert history[:2] == [
            "Alarm updated from OK to INSUFFICIENT_DATA",
            "Alarm updated from ALARM to OK",
        ]

    scenario(body)


def test_composite_alarm_follows_children() -> None:
    async def body(cw: CloudWatch, clock: ManualClock, rec: Recorder, advance: Any) -> None:
        a = cw.alarms.put(SCOPE, "a", dict(ALARM, AlarmActions=[]), composite=False)
        cw.alarms.put(SCOPE, "b", dict(ALARM, AlarmActions=[]), composite=False)
        both = cw.alarms.put(SCOPE, "both", {"AlarmRule": 'ALARM("a") OR ALARM(b)'},
                             composite=True)  # fmt: skip
        await advance(1)
        assert both.state == "OK"
        cw.alarms.transition(a, "ALARM", "forced", forced=True)
        await advance(1)
        assert both.state == "ALARM"
        assert any(e["resources"] == [both.arn] for e in rec.events)

    scenario(body)
