"""CloudWatch metric data survives `kill -9` of the server: a restart on the same data dir
answers the same statistics, lists the same metrics and keeps its alarms' states."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

NAMESPACE = "Durable/App"
DIMS = [{"Name": "Service", "Value": "web"}]


def statistics(cw: Any, start: dt.datetime, end: dt.datetime) -> list[tuple[Any, ...]]:
    got = cw.get_metric_statistics(
        Namespace=NAMESPACE, MetricName="Latency", Dimensions=DIMS, StartTime=start,
        EndTime=end, Period=60, Statistics=["Sum", "SampleCount", "Maximum"],
        ExtendedStatistics=["p90"],
    )  # fmt: skip
    return sorted(
        (p["Timestamp"], p["Sum"], p["SampleCount"], p["Maximum"], p["ExtendedStatistics"]["p90"],
         p["Unit"])
        for p in got["Datapoints"]
    )  # fmt: skip


def alarm_state(cw: Any, name: str) -> str:
    return str(cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


def wait_for_state(cw: Any, name: str, state: str, timeout: float = 20.0) -> None:
    wait_for(lambda: alarm_state(cw, name) == state, timeout, f"{name} to go to {state}", every=0.2)


def test_metric_data_and_alarm_states_survive_kill_9(
    fresh_server: Callable[..., DockyardProcess], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    server = fresh_server("--no-local-agent", data_dir=data_dir)
    cw = make_client("cloudwatch", server.endpoint)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # Datapoints every 20 s from 10 minutes ago to 10 minutes ahead, so the alarm's latest
    # complete minute has data whenever the restart lands; all above the alarm's threshold,
    # so its first evaluation, whichever minute it reads, goes to ALARM.
    cw.put_metric_data(Namespace=NAMESPACE, MetricData=[
        {"MetricName": "Latency", "Dimensions": DIMS, "Unit": "Milliseconds",
         "Timestamp": now + dt.timedelta(seconds=s), "Value": float(100 + (s + 600) % 97)}
        for s in range(-600, 600, 20)
    ])  # fmt: skip
    cw.put_metric_data(Namespace=NAMESPACE, MetricData=[
        {"MetricName": "Requests", "Dimensions": DIMS, "Timestamp": now,
         "StatisticValues": {"SampleCount": 4, "Sum": 40, "Minimum": 5, "Maximum": 15}},
        {"MetricName": "Sizes", "Timestamp": now, "Values": [1, 2, 3], "Counts": [1, 1, 5]},
    ])  # fmt: skip
    cw.put_metric_alarm(
        AlarmName="durable-latency", Namespace=NAMESPACE, MetricName="Latency", Dimensions=DIMS,
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=50.0,
        ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    wait_for_state(cw, "durable-latency", "ALARM")
    start, end = now - dt.timedelta(minutes=15), now + dt.timedelta(minutes=15)
    before = statistics(cw, start, end)
    assert sum(p[2] for p in before) == 60  # every datapoint counted once
    metrics_before = cw.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert len(metrics_before) == 3

    server.kill()  # SIGKILL: nothing is flushed or closed
    again = fresh_server("--no-local-agent", data_dir=data_dir)
    cw = make_client("cloudwatch", again.endpoint)

    assert statistics(cw, start, end) == before
    requests = cw.get_metric_statistics(
        Namespace=NAMESPACE, MetricName="Requests", Dimensions=DIMS, StartTime=start,
        EndTime=end, Period=300, Statistics=["Sum", "SampleCount", "Minimum", "Maximum"],
    )["Datapoints"]  # fmt: skip
    assert [(p["Sum"], p["SampleCount"], p["Minimum"], p["Maximum"]) for p in requests] == [
        (40.0, 4.0, 5.0, 15.0)
    ]
    sizes = cw.get_metric_statistics(
        Namespace=NAMESPACE, MetricName="Sizes", StartTime=start, EndTime=end, Period=300,
        Statistics=["Sum", "SampleCount"], ExtendedStatistics=["p50"],
    )["Datapoints"]  # fmt: skip
    assert [(p["Sum"], p["SampleCount"], p["ExtendedStatistics"]["p50"]) for p in sizes] == [
        (18.0, 7.0, 3.0)
    ]
    key = lambda m: (m["MetricName"], str(m["Dimensions"]))  # noqa: E731
    metrics_after = cw.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert sorted(metrics_after, key=key) == sorted(metrics_before, key=key)
    recent = cw.list_metrics(Namespace=NAMESPACE, MetricName="Latency", RecentlyActive="PT3H")
    assert [m["MetricName"] for m in recent["Metrics"]] == ["Latency"]

    # The restarted alarm controller re-evaluates every alarm at once: it must find the data.
    history_before = cw.describe_alarm_history(AlarmName="durable-latency")["AlarmHistoryItems"]
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        assert alarm_state(cw, "durable-latency") == "ALARM"
        time.sleep(0.25)
    history = cw.describe_alarm_history(AlarmName="durable-latency", HistoryItemType="StateUpdate")
    assert [h["HistorySummary"] for h in history["AlarmHistoryItems"]] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM"
    ]
    history_after = cw.describe_alarm_history(AlarmName="durable-latency")["AlarmHistoryItems"]
    assert len(history_after) == len(history_before)  # nothing happened to it on restart
