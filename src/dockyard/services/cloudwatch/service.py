"""The CloudWatch service: metric data, alarms and how an alarm reads its datapoints.

`CloudWatch(store, clock, samples_path)`; call `load()` once at start and `close()` at
shutdown. Alarms are durable store records (`cloudwatch.alarm`, `cloudwatch.history`); metric
data is kept in memory and written through to the sample log, a SQLite database at
`samples_path` (`<data dir>/metrics.sqlite3` in a server; None keeps metric data in memory
only).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from dockyard.core.alarmwatch import AlarmStatus, StateListener
from dockyard.core.clock import Clock
from dockyard.core.metrics import Datum
from dockyard.core.scaling import AlarmSpec
from dockyard.core.scope import Scope
from dockyard.services.cloudwatch import composite, evaluation, query, statistics
from dockyard.services.cloudwatch.alarms import Alarms
from dockyard.services.cloudwatch.evaluation import Outcome, Rule
from dockyard.services.cloudwatch.metrics import MetricStore, Sample, align
from dockyard.services.cloudwatch.model import Alarm, AlarmState, MetricKey
from dockyard.services.cloudwatch.samples import SampleLog
from dockyard.services.cloudwatch.statistics import Aggregate
from dockyard.store.base import Store

log = logging.getLogger(__name__)

MANAGED_BY_AUTOSCALING = "application-autoscaling"


def metric_key(datum: Datum) -> MetricKey:
    return MetricKey(datum.namespace, datum.metric_name, tuple(sorted(datum.dimensions)))


def sample_of(datum: Datum) -> Sample:
    if datum.values:
        # Values with Counts arrive as repeated values.
        data = Aggregate()
        for v in datum.values:
            data.add_value(v)
    elif datum.value is not None:
        # What Aggregate().add_value(value, count) holds, built at once.
        v, n = datum.value, datum.count
        data = Aggregate(n, 0.0 + v * n, v, v, [v] * max(1, int(n)))
    else:
        data = Aggregate()
        data.add_set(
            datum.count,
            datum.sum or 0.0,
            datum.minimum if datum.minimum is not None else 0.0,
            datum.maximum if datum.maximum is not None else 0.0,
        )
    return Sample(datum.timestamp, datum.unit, data)


class CloudWatch:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        samples_path: str | None = None,
        *,
        action_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.clock = clock
        self.metrics = MetricStore(clock, SampleLog(samples_path) if samples_path else None)
        self.alarms = Alarms(store, clock)
        # Action ARN prefixes some wired part of Dockyard can run (given by the server).
        self.action_prefixes = action_prefixes

    def load(self) -> None:
        self.alarms.load()
        self.metrics.load()

    def reset(self) -> None:
        self.metrics.reset()
        self.alarms.reset()

    def close(self) -> None:
        self.metrics.close()

    # -- metric data -------------------------------------------------------------------

    def record(self, scope: Scope, datum: Datum) -> None:
        self.record_all(scope, [datum])

    def record_all(self, scope: Scope, data: Iterable[Datum]) -> None:
        """Store the samples of a PutMetricData call (or of one of Dockyard's own batches)."""
        self.metrics.add_all(scope, [(metric_key(d), sample_of(d)) for d in data])

    def publish(self, account_id: str, region: str, data: list[Datum]) -> None:
        """The MetricSink port: Dockyard's own measurements (AWS/ECS, AWS/ApplicationELB)."""
        self.record_all(Scope(account_id, region), data)

    # -- AlarmStates port (ECS deployment alarms) ----------------------------------------

    def alarm_status(self, account_id: str, region: str, name: str) -> AlarmStatus | None:
        alarm = self.alarms.find(Scope(account_id, region), name)
        if alarm is None:
            return None
        periods = 1 if alarm.composite else int(alarm.params.get("EvaluationPeriods") or 1)
        period = 60 if alarm.composite else self.alarm_period(alarm)
        return AlarmStatus(alarm.state, float(period * periods))

    def watch_states(self, listener: StateListener) -> Callable[[], None]:
        def changed(alarm: Alarm, previous: str) -> None:
            listener(alarm.account_id, alarm.region, alarm.name, alarm.state)

        self.alarms.listeners.append(changed)
        return lambda: self.alarms.listeners.remove(changed)

    # -- ManagedAlarms port (target tracking) ---------------------------------------------

    def put_alarm(self, account_id: str, region: str, spec: AlarmSpec) -> str:
        alarm = self.alarms.put(
            Scope(account_id, region), spec.name, dict(spec.params), composite=False,
            managed_by=MANAGED_BY_AUTOSCALING,
        )  # fmt: skip
        return alarm.arn

    def delete_alarms(self, account_id: str, region: str, names: list[str]) -> None:
        scope = Scope(account_id, region)
        for name in names:
            alarm = self.alarms.find(scope, name)
            if alarm is not None:
                self.alarms.delete(alarm)

    # -- alarm evaluation -------------------------------------------------------------

    def alarm_period(self, alarm: Alarm) -> int:
        p = alarm.params
        if "Metrics" in p:
            returned = next(m for m in p["Metrics"] if m.get("ReturnData", True))
            return int(returned.get("Period") or returned.get("MetricStat", {}).get("Period") or 60)
        return int(p["Period"])

    def alarm_points(self, alarm: Alarm, now: float) -> list[tuple[float, float | None]]:
        """The evaluation range's datapoints (oldest first), complete periods only."""
        p = alarm.params
        period = self.alarm_period(alarm)
        count = evaluation.range_length(int(p["EvaluationPeriods"]))
        end = align(now, period)
        start = end - count * period
        if "Metrics" in p:
            results = query.run(self.metrics, alarm.scope, p["Metrics"], start, end)
            series = next(r.series for r in results if r.return_data)
        else:
            key = MetricKey.of(p["Namespace"], p["MetricName"], p.get("Dimensions"))
            stat = p.get("Statistic") or p["ExtendedStatistic"]
            series = self.metrics.statistic_series(
                alarm.scope, key, stat, start, end, period, p.get("Unit")
            )
        return [(start + i * period, series.get(start + i * period)) for i in range(count)]

    def evaluate_metric_alarm(self, alarm: Alarm, now: float) -> Outcome:
        p = alarm.params
        n = int(p["EvaluationPeriods"])
        rule = Rule(
            threshold=float(p["Threshold"]),
            comparison=p["ComparisonOperator"],
            evaluation_periods=n,
            datapoints_to_alarm=int(p.get("DatapointsToAlarm", n)),
            treat_missing=p.get("TreatMissingData", "missing"),
        )
        return evaluation.evaluate(self.alarm_points(alarm, now), rule, alarm.state)

    def evaluate_composite(self, alarm: Alarm) -> tuple[str, str]:
        rule = alarm.params["AlarmRule"]
        scope = alarm.scope

        def state_of(name: str) -> str | None:
            child = self.alarms.resolve(scope, name)
            return child.state if child is not None else None

        children = composite.referenced(rule)
        if any(state_of(c) is None for c in children):
            return AlarmState.INSUFFICIENT_DATA, "A child alarm of the rule does not exist."
        holds = composite.evaluate(rule, state_of)
        if holds:
            firing = [c for c in children if state_of(c) == AlarmState.ALARM]
            return AlarmState.ALARM, f"The alarm rule is true (in ALARM: {', '.join(firing)})."
        return AlarmState.OK, "The alarm rule is false."

    def parents_of(self, alarm: Alarm) -> list[Alarm]:
        out = []
        for other in self.alarms.in_scope(alarm.scope):
            if other.composite:
                refs = composite.referenced(other.params["AlarmRule"])
                if alarm.name in refs or alarm.arn in refs:
                    out.append(other)
        return out

    def datapoint(self, key: MetricKey, agg: Aggregate, unit: str, ts: float,
                  stats: list[str], extended: list[str]) -> dict[str, Any]:  # fmt: skip
        point: dict[str, Any] = {"Timestamp": ts, "Unit": unit}
        for name in stats:
            point[name] = agg.standard(name)
        ext: dict[str, float] = {}
        for name in extended:
            value = agg.statistic(name)
            if value is not None:
                ext[name] = value
        if extended:
            point["ExtendedStatistics"] = ext
        return point


__all__ = ["CloudWatch", "statistics"]
