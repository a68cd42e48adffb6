"""Metric data: every sample PutMetricData (and Dockyard itself) recorded, by metric.

Samples are kept in memory per metric, in time order, for `RETENTION` seconds of clock time,
and written through to the sample log (when there is one) in the same step, one transaction
per batch; `load()` reads them back at start. Queries aggregate the in-memory samples of each
period of a time range.

Retention: CloudWatch keeps data points of a period under 60 s for 3 hours, of 60 s for 15
days, of 5 minutes for 63 days and of 1 hour for 455 days, rolling shorter periods up into
longer ones. Dockyard keeps every raw sample for 15 days (PutMetricData takes timestamps of
the last two weeks only) and keeps no roll-ups: queries older than that find nothing, and
sub-minute periods stay answerable for those 15 days.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.cloudwatch.model import MetricKey
from dockyard.services.cloudwatch.samples import Entry, SampleLog, StoredMetric
from dockyard.services.cloudwatch.statistics import Aggregate, aggregate

log = logging.getLogger(__name__)

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
    mid: int = 0  # its number in the sample log

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
    """Every metric's series, by scope; written through to `sample_log` when given."""

    def __init__(self, clock: Clock, sample_log: SampleLog | None = None) -> None:
        self.clock = clock
        self.sample_log = sample_log
        self.series: dict[Scope, dict[MetricKey, Series]] = {}
        self._last_mid = sample_log.max_id() if sample_log is not None else 0

    def load(self) -> None:
        """Read the sample log back into memory (once, at start)."""
        self.series.clear()
        if self.sample_log is None:
            return
        by_mid: dict[int, Series] = {}
        for m in self.sample_log.metrics():
            series = Series(m.key, last_put=m.last_put, mid=m.mid, in_order=False)
            self.series.setdefault(m.scope, {})[m.key] = by_mid[m.mid] = series
        # Read in arrival order; each series is put in time order on its first read. Samples
        # that have expired since they were stored are left out.
        loaded = 0
        for mid, entries in self.sample_log.chunks(since=self.clock.now() - RETENTION):
            series_of = by_mid.get(mid)
            if series_of is not None:
                before = len(series_of.samples)
                series_of.samples.extend(Sample(ts, unit, data) for ts, unit, data in entries)
                loaded += len(series_of.samples) - before
        for series in by_mid.values():
            series.times = [s.timestamp for s in series.samples]
        self._last_mid = max(self._last_mid, self.sample_log.max_id())
        if by_mid:
            log.info("cloudwatch: loaded %d samples of %d metrics", loaded, len(by_mid))

    def close(self) -> None:
        if self.sample_log is not None:
            self.sample_log.close()

    def reset(self) -> None:
        self.series.clear()
        if self.sample_log is not None:
            self.sample_log.clear()

    def add(self, scope: Scope, key: MetricKey, sample: Sample) -> None:
        self.add_all(scope, [(key, sample)])

    def add_all(self, scope: Scope, items: Iterable[tuple[MetricKey, Sample]]) -> None:
        """Store samples of one scope: in the sample log in one transaction, then in memory
        (a batch the log refused is not kept at all)."""
        now = self.clock.now()
        per_scope = self.series.get(scope) or {}
        created: dict[MetricKey, Series] = {}
        batch: list[tuple[Series, Sample]] = []
        for key, sample in items:
            series = per_scope.get(key) or created.get(key)
            if series is None:
                series = created[key] = Series(key)
            batch.append((series, sample))
        if self.sample_log is not None and batch:
            new: list[StoredMetric] = []
            for series in created.values():
                self._last_mid += 1
                series.mid = self._last_mid
                new.append(StoredMetric(series.mid, scope, series.key, now))
            chunks: dict[int, list[Entry]] = {}
            for se, sa in batch:
                chunks.setdefault(se.mid, []).append((sa.timestamp, sa.unit, sa.data))
            self.sample_log.append(new, chunks, now)
        if created:
            self.series.setdefault(scope, {}).update(created)
        for series, sample in batch:
            series.add(sample)
            series.last_put = now

    def expire(self) -> None:
        before = self.clock.now() - RETENTION
        dropped: list[int] = []
        for per_scope in self.series.values():
            for key in [k for k, s in per_scope.items() if s.last_put < before]:
                dropped.append(per_scope.pop(key).mid)
            for s in per_scope.values():
                s.expire(before)
        if self.sample_log is not None:
            self.sample_log.expire(before, dropped)

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
