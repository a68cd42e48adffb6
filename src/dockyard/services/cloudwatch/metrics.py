"""Metric data: every sample PutMetricData (and Dockyard itself) recorded, by metric.

Samples are kept in memory per metric, in time order, for `RETENTION` seconds of clock time
(CloudWatch keeps one-minute data for 15 days). Queries aggregate the samples of each
period of a time range.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from dockyard.core.clock import Clock
from dockyard.services.cloudwatch.model import MetricKey, Scope
from dockyard.services.cloudwatch.statistics import Aggregate, aggregate

RETENTION = 15 * 24 * 3600.0


@dataclass(slots=True)
class Sample:
    timestamp: float
    unit: str
    data: Aggregate


@dataclass(slots=True)
class Series:
    """A metric's samples. Samples are appended as they arrive and put in time order
    (stable: equal timestamps keep their arrival order) when first read after an
    out-of-order arrival, so storing a sample is O(1) whatever its timestamp."""

    key: MetricKey
    samples: list[Sample] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    last_put: float = 0.0
    in_order: bool = True

    def add(self, sample: Sample) -> None:
        if self.times and sample.timestamp < self.times[-1]:
            self.in_order = False
        self.times.append(sample.timestamp)
        self.samples.append(sample)

    def ordered(self) -> None:
        if not self.in_order:
            self.samples.sort(key=_timestamp)
            self.times = [s.timestamp for s in self.samples]
            self.in_order = True

    def between(self, start: float, end: float) -> list[Sample]:
        self.ordered()
        lo = bisect.bisect_left(self.times, start)
        hi = bisect.bisect_left(self.times, end)
        return self.samples[lo:hi]

    def expire(self, before: float) -> None:
        self.ordered()
        cut = bisect.bisect_left(self.times, before)
        if cut:
            del self.times[:cut]
            del self.samples[:cut]


def _timestamp(sample: Sample) -> float:
    return sample.timestamp


def align(timestamp: float, period: int) -> float:
    return math.floor(timestamp / period) * period


class MetricStore:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.series: dict[Scope, dict[MetricKey, Series]] = {}

    def reset(self) -> None:
        self.series.clear()

    def add(self, scope: Scope, key: MetricKey, sample: Sample) -> None:
        per_scope = self.series.setdefault(scope, {})
        series = per_scope.get(key)
        if series is None:
            series = per_scope[key] = Series(key)
        series.add(sample)
        series.last_put = self.clock.now()

    def expire(self) -> None:
        before = self.clock.now() - RETENTION
        for per_scope in self.series.values():
            for key in [k for k, s in per_scope.items() if s.last_put < before]:
                del per_scope[key]
            for s in per_scope.values():
                s.expire(before)

    def get(self, scope: Scope, key: MetricKey) -> Series | None:
        return self.series.get(scope, {}).get(key)

    def metrics(self, scope: Scope) -> Iterator[Series]:
        yield from self.series.get(scope, {}).values()

    def buckets(
        self,
        scope: Scope,
        key: MetricKey,
        start: float,
        end: float,
        period: int,
        unit: str | None = None,
    ) -> dict[float, tuple[Aggregate, str]]:
        """Aggregates of each period in [start, end) that has samples: period start ->
        (aggregate, unit). With `unit`, only samples recorded in that unit count."""
        series = self.get(scope, key)
        if series is None:
            return {}
        grouped: dict[float, list[Sample]] = {}
        for sample in series.between(align(start, period), end):
            if unit is not None and sample.unit != unit:
                continue
            grouped.setdefault(align(sample.timestamp, period), []).append(sample)
        out: dict[float, tuple[Aggregate, str]] = {}
        for ts, samples in sorted(grouped.items()):
            units = {s.unit for s in samples}
            out[ts] = (
                aggregate(s.data for s in samples),
                units.pop() if len(units) == 1 else "None",
            )
        return out

    def statistic_series(
        self,
        scope: Scope,
        key: MetricKey,
        stat: str,
        start: float,
        end: float,
        period: int,
        unit: str | None = None,
    ) -> dict[float, float]:
        """Period start -> the statistic's value, for the periods that have one."""
        out: dict[float, float] = {}
        for ts, (agg, _unit) in self.buckets(scope, key, start, end, period, unit).items():
            value = agg.statistic(stat)
            if value is not None:
                out[ts] = value
        return out
