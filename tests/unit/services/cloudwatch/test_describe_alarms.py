"""DescribeAlarms filters through the handlers."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext
from dockyard.core.clock import ManualClock
from dockyard.services.cloudwatch import CloudWatch, provider
from dockyard.store import SqliteStore


class Client:
    def __init__(self) -> None:
        cw = CloudWatch(SqliteStore(":memory:"), ManualClock(start=1_700_000_000.0))
        self.handlers = provider(cw).handlers

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        ctx = RequestContext("cloudwatch", operation, "000000000000", "us-east-1", "req-1")
        result = self.handlers[operation](ctx, params)
        assert isinstance(result, dict)
        return result


def test_the_children_of_a_metric_alarm_are_none() -> None:
    client = Client()
    client(
        "PutMetricAlarm", AlarmName="cpu", Namespace="App", MetricName="CPU",
        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    client("PutCompositeAlarm", AlarmName="both", AlarmRule='ALARM("cpu")')
    out = client(
        "DescribeAlarms", ChildrenOfAlarmName="cpu", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    assert out["MetricAlarms"] == [] and out["CompositeAlarms"] == []
    out = client(
        "DescribeAlarms", ChildrenOfAlarmName="both", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    assert [a["AlarmName"] for a in out["MetricAlarms"]] == ["cpu"]
