"""The alarm controller: evaluates every alarm once a period and runs its actions.

Keys are alarm ARNs. A metric alarm is evaluated at each period boundary on its datapoints
(`CloudWatch.evaluate_metric_alarm`, pure underneath); a composite alarm whenever one of its
children changes state. A state change (also one made by SetAlarmState) runs the actions of
the new state when actions are enabled, and puts a "CloudWatch Alarm State Change" event on
the bus. Scaling-policy actions are run again at every evaluation for as long as the alarm
stays in the state, as CloudWatch does for Auto Scaling actions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from dockyard.controllers.runtime import Runtime
from dockyard.core import timefmt
from dockyard.core.clock import Clock
from dockyard.core.eventbus import EventSink
from dockyard.core.ids import new_uuid
from dockyard.core.scaling import AlarmActions, AlarmFiring
from dockyard.services.cloudwatch.evaluation import Outcome
from dockyard.services.cloudwatch.metrics import align
from dockyard.services.cloudwatch.model import Alarm, AlarmState
from dockyard.services.cloudwatch.service import CloudWatch

log = logging.getLogger(__name__)

EXPIRE_KEY = "metrics:expire"
EXPIRE_EVERY = 3600.0
SETTLE = 0.5  # seconds after a period ends before it is evaluated (late datapoints)

ACTION_FIELDS = {
    AlarmState.ALARM: "AlarmActions",
    AlarmState.OK: "OKActions",
    AlarmState.INSUFFICIENT_DATA: "InsufficientDataActions",
}


def iso(ts: float, *, z: bool = False) -> str:
    """EventBridge's `time` (to the second, Z) or CloudWatch's own form (ms, +0000)."""
    return timefmt.iso(ts, "s") if z else timefmt.iso(ts, "ms", "+0000")


def state_change_event(
    alarm: Alarm, previous: str, previous_reason: str, now: float
) -> dict[str, Any]:
    """The EventBridge event CloudWatch sends when an alarm changes state."""
    p = alarm.params
    state: dict[str, Any] = {
        "value": alarm.state,
        "reason": alarm.state_reason,
        "timestamp": iso(alarm.state_updated),
    }
    if alarm.state_reason_data:
        state["reasonData"] = alarm.state_reason_data
    config: dict[str, Any] = {"description": p.get("AlarmDescription", "")}
    if alarm.composite:
        config["alarmRule"] = p["AlarmRule"]
    elif "Metrics" in p:
        config["metrics"] = [_metric_query(m) for m in p["Metrics"]]
    else:
        stat = p.get("Statistic") or p.get("ExtendedStatistic")
        config["metrics"] = [{
            "id": "m1",
            "metricStat": {
                "metric": {
                    "namespace": p["Namespace"],
                    "name": p["MetricName"],
                    "dimensions": {d["Name"]: d["Value"] for d in p.get("Dimensions") or []},
                },
                "period": p["Period"],
                "stat": stat,
            },
            "returnData": True,
        }]  # fmt: skip
    return {
        "version": "0",
        "id": new_uuid(),
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": alarm.account_id,
        "time": iso(now, z=True),
        "region": alarm.region,
        "resources": [alarm.arn],
        "detail": {
            "alarmName": alarm.name,
            "state": state,
            "previousState": {"value": previous, "reason": previous_reason},
            "configuration": config,
        },
    }


def _metric_query(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": m["Id"], "returnData": m.get("ReturnData", True)}
    if "Expression" in m:
        out["expression"] = m["Expression"]
    if "Label" in m:
        out["label"] = m["Label"]
    if "MetricStat" in m:
        ms = m["MetricStat"]
        out["metricStat"] = {
            "metric": {
                "namespace": ms["Metric"].get("Namespace"),
                "name": ms["Metric"].get("MetricName"),
                "dimensions": {d["Name"]: d["Value"] for d in ms["Metric"].get("Dimensions") or []},
            },
            "period": ms["Period"],
            "stat": ms["Stat"],
        }
    return out


class AlarmController:
    def __init__(
        self,
        cloudwatch: CloudWatch,
        clock: Clock,
        actions: Sequence[AlarmActions] = (),
        events: EventSink | None = None,
        *,
        workers: int = 2,
    ) -> None:
        self.cloudwatch = cloudwatch
        self.clock = clock
        self.actions = list(actions)
        self.events = events
        self.runtime = Runtime("alarms", self.reconcile, clock, workers=workers)
        self._previous_reason: dict[str, str] = {}

    def start(self) -> None:
        alarms = self.cloudwatch.alarms
        alarms.listeners.append(self._state_changed)
        alarms.changed.append(self._configured)
        self.runtime.start()
        for arn in list(alarms.by_arn):
            self.runtime.enqueue(arn)
        self.runtime.enqueue(EXPIRE_KEY, after=EXPIRE_EVERY)

    async def stop(self) -> None:
        alarms = self.cloudwatch.alarms
        if self._state_changed in alarms.listeners:
            alarms.listeners.remove(self._state_changed)
        if self._configured in alarms.changed:
            alarms.changed.remove(self._configured)
        await self.runtime.stop()

    # -- hooks --------------------------------------------------------------------------

    def _configured(self, alarm: Alarm) -> None:
        self.runtime.enqueue(alarm.arn)
        for parent in self.cloudwatch.parents_of(alarm):
            self.runtime.enqueue(parent.arn)

    def _state_changed(self, alarm: Alarm, previous: str) -> None:
        now = self.clock.now()
        if self.events is not None:
            reason = self._previous_reason.get(alarm.arn, "")
            self.events.emit(state_change_event(alarm, previous, reason, now))
        self._previous_reason[alarm.arn] = alarm.state_reason
        self.run_actions(alarm, None)
        for parent in self.cloudwatch.parents_of(alarm):
            self.runtime.enqueue(parent.arn)

    # -- reconcile ----------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        if key == EXPIRE_KEY:
            self.cloudwatch.metrics.expire()
            return EXPIRE_EVERY
        alarm = self.cloudwatch.alarms.by_arn.get(key)
        if alarm is None:
            self._previous_reason.pop(key, None)
            return None
        alarms = self.cloudwatch.alarms
        self._previous_reason.setdefault(alarm.arn, alarm.state_reason)
        if alarm.composite:
            state, reason = self.cloudwatch.evaluate_composite(alarm)
            alarms.transition(alarm, state, reason)
            return None
        now = self.clock.now()
        outcome = self.cloudwatch.evaluate_metric_alarm(alarm, now)
        changed = alarms.transition(
            alarm, outcome.state, outcome.reason, reason_data(alarm, outcome)
        )
        if not changed:
            # Scaling actions repeat while the alarm stays in its state.
            self.run_actions(alarm, outcome, repeat=True)
        period = self.cloudwatch.alarm_period(alarm)
        return align(now, period) + period + SETTLE - now

    def run_actions(self, alarm: Alarm, outcome: Outcome | None, *, repeat: bool = False) -> None:
        if not alarm.actions_enabled:
            return
        arns = alarm.params.get(ACTION_FIELDS[AlarmState(alarm.state)]) or []
        if not arns:
            return
        p = alarm.params
        value = outcome.recent if outcome is not None else None
        if value is None and alarm.state_reason_data:
            recent = json.loads(alarm.state_reason_data).get("recentDatapoints") or []
            value = recent[-1] if recent else None
        firing = AlarmFiring(
            alarm_name=alarm.name,
            alarm_arn=alarm.arn,
            state=alarm.state,
            threshold=p.get("Threshold"),
            value=value,
            comparison=p.get("ComparisonOperator"),
            repeat=repeat,
        )
        for arn in arns:
            handled = False
            for handler in self.actions:
                try:
                    handled = handler.invoke(alarm.account_id, alarm.region, arn, firing)
                except Exception:
                    log.exception(
                        "alarm %s: action %s failed", alarm.name, arn,
                        extra={"alarm_arn": alarm.arn, "action": arn},
                    )  # fmt: skip
                    handled = True
                if handled:
                    break
            if handled and not repeat:
                self.cloudwatch.alarms.record(
                    alarm, "Action", f"Successfully executed action {arn}",
                    {"actionState": "Succeeded", "notificationResource": arn},
                )  # fmt: skip
            elif not handled:
                log.warning(
                    "alarm %s: no one runs action %s", alarm.name, arn,
                    extra={"alarm_arn": alarm.arn},
                )  # fmt: skip


def reason_data(alarm: Alarm, outcome: Outcome) -> dict[str, Any] | None:
    if not outcome.evaluated:
        return None
    p = alarm.params
    data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": iso(alarm.last_evaluated or 0.0),
        "startDate": iso(outcome.evaluated[0][0]),
        "period": int(p.get("Period") or 60),
        "recentDatapoints": [v for _, v in outcome.evaluated],
        "threshold": p.get("Threshold"),
        "evaluatedDatapoints": [
            {"timestamp": iso(t), "value": v} for t, v in reversed(outcome.evaluated)
        ],
    }
    if p.get("Statistic"):
        data["statistic"] = p["Statistic"]
    if p.get("Unit"):
        data["unit"] = p["Unit"]
    return data
