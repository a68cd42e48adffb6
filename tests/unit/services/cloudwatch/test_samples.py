"""The sample log: metric data written through to SQLite and read back after a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.metrics import Datum
from dockyard.core.scope import Scope
from dockyard.services.cloudwatch.metrics import RETENTION, MetricStore, Sample, align
from dockyard.services.cloudwatch.model import MetricKey
from dockyard.services.cloudwatch.samples import SampleLog, StoredMetric, decode_chunk, encode_chunk
from dockyard.services.cloudwatch.service import CloudWatch, sample_of
from dockyard.services.cloudwatch.statistics import Aggregate
from dockyard.store.sqlite import SqliteStore

SCOPE = Scope("000000000000", "us-east-1")
OTHER = Scope("111111111111", "eu-west-1")
T0 = 1_700_000_000.0
KEY = MetricKey("App", "Latency", (("Service", "web"),))


def datum(value: float, ts: float, name: str = "Latency", **kw: object) -> Datum:
    return Datum("App", name, (("Service", "web"),), ts, "Milliseconds", value, **kw)  # type: ignore[arg-type]


def same(a: Aggregate, b: Aggregate) -> bool:
    return (a.count, a.sum, a.minimum, a.maximum, a.values, a.complete_values) == (
        b.count, b.sum, b.minimum, b.maximum, b.values, b.complete_values,
    )  # fmt: skip


KINDS = [
    datum(12.5, T0),
    datum(-0.0, T0),
    datum(3.0, T0, count=4.0),
    Datum("App", "Latency", (), T0 + 1, "None", values=(1.0, 1.0, 2.5, 1e300, -7.25)),
    Datum("App", "Latency", (), T0 - 1, "Count", count=10, sum=55, minimum=1, maximum=10),
]


@pytest.mark.parametrize(
    "d", KINDS, ids=["value", "negative-zero", "value-with-count", "values", "statistic-set"]
)
def test_every_kind_of_sample_round_trips_exactly(d: Datum) -> None:
    data = sample_of(d).data
    _mid, newest, *packed = encode_chunk(7, [(d.timestamp, d.unit, data)])
    assert newest == d.timestamp
    [(ts, unit, back)] = list(decode_chunk(*packed))  # type: ignore[arg-type]
    assert (ts, unit) == (d.timestamp, d.unit)
    assert same(back, data)


def test_a_chunk_of_mixed_samples_keeps_their_order_units_and_kinds() -> None:
    data = Aggregate()
    data.add_value(4.0)
    data.add_set(3, 30, 5, 15)  # a statistic set after values: percentiles unanswerable
    entries = [(d.timestamp, d.unit, sample_of(d).data) for d in KINDS]
    entries.append((T0 + 2, "Bytes", data))
    mid, newest, *packed = encode_chunk(3, entries)
    assert (mid, newest) == (3, T0 + 2)
    back = list(decode_chunk(*packed))  # type: ignore[arg-type]
    assert [(ts, unit) for ts, unit, _ in back] == [(ts, unit) for ts, unit, _ in entries]
    for (_, _, got), (_, _, want) in zip(back, entries, strict=True):
        assert same(got, want)
    assert back[-1][2].statistic("p50") is None


def test_a_log_reopened_holds_the_metrics_and_samples_in_arrival_order(tmp_path: Path) -> None:
    path = str(tmp_path / "metrics.sqlite3")
    log = SampleLog(path)
    first = [(ts, "None", sample_of(datum(v, ts)).data) for v, ts in [(1.0, T0 + 60), (2.0, T0)]]
    log.append([StoredMetric(1, SCOPE, KEY, T0)], {1: first}, T0)
    log.append([], {1: [(T0, "Count", sample_of(datum(3.0, T0)).data)]}, T0 + 5)
    log.close()

    again = SampleLog(path)
    assert list(again.metrics()) == [StoredMetric(1, SCOPE, KEY, T0 + 5)]
    samples = [(mid, ts, unit, data.sum) for mid, entries in again.chunks()
               for ts, unit, data in entries]  # fmt: skip
    assert samples == [(1, T0 + 60, "None", 1.0), (1, T0, "None", 2.0), (1, T0, "Count", 3.0)]
    assert again.count() == 3
    assert again.max_id() == 1
    kept = [ts for _, entries in again.chunks(since=T0 + 1) for ts, _, _ in entries]
    assert kept == [T0 + 60]
    again.close()


def test_a_batch_is_one_transaction_all_or_nothing() -> None:
    log = SampleLog(None)
    good = (T0, "None", sample_of(datum(1.0, T0)).data)
    bad = ("yesterday", "None", sample_of(datum(1.0, T0)).data)  # not a timestamp
    with pytest.raises(TypeError):
        log.append([StoredMetric(1, SCOPE, KEY, T0)], {1: [good, bad]}, T0)  # type: ignore[list-item]
    assert log.count() == 0
    assert list(log.metrics()) == []
    log.append([StoredMetric(1, SCOPE, KEY, T0)], {1: [good]}, T0)
    assert log.count() == 1


def store_on(path: Path, clock: ManualClock) -> MetricStore:
    metrics = MetricStore(clock, SampleLog(str(path)))
    metrics.load()
    return metrics


def test_metric_data_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "metrics.sqlite3"
    clock = ManualClock(start=T0)
    metrics = store_on(path, clock)
    other_key = MetricKey("App", "Errors", ())
    metrics.add_all(SCOPE, [(KEY, sample_of(datum(float(i), T0 - 600 + i * 37 % 600)))
                            for i in range(20)])  # fmt: skip
    metrics.add(OTHER, other_key, Sample(T0 - 30, "Count", sample_of(datum(5.0, T0)).data))
    before = metrics.buckets(SCOPE, KEY, T0 - 900, T0, 60)
    pct = metrics.statistic_series(SCOPE, KEY, "p90", T0 - 900, T0, 300)
    last_put = metrics.get(SCOPE, KEY).last_put  # type: ignore[union-attr]
    metrics.close()

    clock.advance(120)
    again = store_on(path, clock)
    assert [s.key for s in again.metrics(SCOPE)] == [KEY]
    assert [s.key for s in again.metrics(OTHER)] == [other_key]
    after = again.buckets(SCOPE, KEY, T0 - 900, T0, 60)
    assert after.keys() == before.keys()
    for ts, (agg, unit) in before.items():
        assert same(after[ts][0], agg)
        assert after[ts][1] == unit == "Milliseconds"
    assert again.statistic_series(SCOPE, KEY, "p90", T0 - 900, T0, 300) == pct
    assert again.get(SCOPE, KEY).last_put == last_put  # type: ignore[union-attr]
    again.close()


def test_a_restarted_store_keeps_numbering_metrics_on(tmp_path: Path) -> None:
    path = tmp_path / "metrics.sqlite3"
    clock = ManualClock(start=T0)
    metrics = store_on(path, clock)
    metrics.add(SCOPE, KEY, sample_of(datum(1.0, T0)))
    metrics.close()

    again = store_on(path, clock)
    new_key = MetricKey("App", "Other", ())
    again.add(SCOPE, KEY, sample_of(datum(2.0, T0 + 1)))
    again.add(SCOPE, new_key, sample_of(datum(3.0, T0 + 1)))
    again.close()

    third = store_on(path, clock)
    assert [s.data.sum for s in third.get(SCOPE, KEY).samples] == [1.0, 2.0]  # type: ignore[union-attr]
    assert [s.data.sum for s in third.get(SCOPE, new_key).samples] == [3.0]  # type: ignore[union-attr]
    third.close()


def test_expiry_deletes_old_samples_and_idle_metrics_from_the_log(tmp_path: Path) -> None:
    path = tmp_path / "metrics.sqlite3"
    clock = ManualClock(start=T0)
    metrics = store_on(path, clock)
    idle = MetricKey("App", "Idle", ())
    metrics.add(SCOPE, idle, sample_of(datum(1.0, T0)))
    metrics.add(SCOPE, KEY, sample_of(datum(1.0, T0)))
    clock.advance(RETENTION - 3600)
    metrics.add(SCOPE, KEY, sample_of(datum(2.0, clock.now())))
    clock.advance(7200)
    metrics.expire()
    assert [s.key for s in metrics.metrics(SCOPE)] == [KEY]
    assert metrics.sample_log is not None and metrics.sample_log.count() == 1
    metrics.close()

    again = store_on(path, clock)
    assert [s.key for s in again.metrics(SCOPE)] == [KEY]
    assert [s.data.sum for s in again.get(SCOPE, KEY).samples] == [2.0]  # type: ignore[union-attr]
    again.close()


def test_reset_clears_the_log(tmp_path: Path) -> None:
    path = tmp_path / "metrics.sqlite3"
    clock = ManualClock(start=T0)
    metrics = store_on(path, clock)
    metrics.add(SCOPE, KEY, sample_of(datum(1.0, T0)))
    metrics.reset()
    metrics.close()
    again = store_on(path, clock)
    assert list(again.metrics(SCOPE)) == []
    again.close()


def test_a_batch_the_log_refuses_is_not_kept_in_memory_either() -> None:
    clock = ManualClock(start=T0)
    log = SampleLog(None)
    metrics = MetricStore(clock, log)
    log.close()
    with pytest.raises(sqlite3.ProgrammingError):
        metrics.add(SCOPE, KEY, sample_of(datum(1.0, T0)))
    assert list(metrics.metrics(SCOPE)) == []


def test_without_a_log_metric_data_stays_in_memory() -> None:
    metrics = MetricStore(ManualClock(start=T0))
    metrics.add(SCOPE, KEY, sample_of(datum(1.0, T0)))
    metrics.load()  # nothing to read back: memory is all there is
    assert list(metrics.metrics(SCOPE)) == []


def test_cloudwatch_reloads_what_put_metric_data_stored(tmp_path: Path) -> None:
    path = str(tmp_path / "metrics.sqlite3")
    clock = ManualClock(start=T0)
    cw = CloudWatch(SqliteStore(":memory:"), clock, samples_path=path)
    cw.load()
    cw.record_all(SCOPE, [datum(float(v), T0 - 120 + v) for v in range(10)])
    cw.publish(SCOPE.account_id, SCOPE.region, [datum(100.0, T0 - 60, name="Errors")])
    cw.close()

    again = CloudWatch(SqliteStore(":memory:"), clock, samples_path=path)
    again.load()
    assert again.metrics.statistic_series(SCOPE, KEY, "Sum", T0 - 180, T0, 60) == {
        align(T0 - 120, 60): 45.0
    }
    errors = MetricKey("App", "Errors", (("Service", "web"),))
    assert again.metrics.statistic_series(SCOPE, errors, "Sum", T0 - 180, T0, 60) == {
        align(T0 - 60, 60): 100.0
    }
    again.close()
