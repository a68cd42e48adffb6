"""PutMetricAlarm input rules beyond the botocore shape (which only requires AlarmName)."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.cloudwatch import validation

ALARM: dict[str, Any] = {
    "AlarmName": "a",
    "Namespace": "App",
    "MetricName": "Latency",
    "Statistic": "Average",
    "Period": 60,
    "EvaluationPeriods": 1,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
}


def test_a_complete_alarm_passes() -> None:
    validation.metric_alarm(dict(ALARM))


@pytest.mark.parametrize("missing", ["ComparisonOperator", "EvaluationPeriods"])
def test_an_alarm_without_a_member_the_model_leaves_optional_is_missing_parameter(
    missing: str,
) -> None:
    params = {k: v for k, v in ALARM.items() if k != missing}
    with pytest.raises(ServiceError) as err:
        validation.metric_alarm(params)
    assert err.value.code == "MissingParameter"
    assert err.value.status == 400
    assert missing in err.value.message
