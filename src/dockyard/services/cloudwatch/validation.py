"""CloudWatch input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

import math
from typing import Any

from dockyard.services.cloudwatch import composite, statistics
from dockyard.services.cloudwatch.errors import (
    InvalidParameterCombinationException,
    InvalidParameterValueException,
    MissingRequiredParameterException,
)
from dockyard.services.cloudwatch.model import Comparison, TreatMissingData

MIN_VALUE = 8.515920e-109
MAX_VALUE = 1.174271e108
RESERVED_NAMESPACE = "AWS/"
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
DAY = 86_400
WEEK = 7 * DAY


def number(value: float, field: str) -> float:
    if (
        math.isnan(value)
        or math.isinf(value)
        or (value != 0 and not MIN_VALUE <= abs(value) <= MAX_VALUE)
    ):
        raise InvalidParameterValueException(
            f"The value {value} for parameter {field} is invalid: values must be between "
            "8.515920e-109 and 1.174271e+108 (or 0); NaN and Infinity are not accepted."
        )
    return value


def namespace(value: str, *, own: bool = False) -> str:
    if not own and value.startswith(RESERVED_NAMESPACE):
        raise InvalidParameterValueException(
            f"The value {value} for parameter Namespace is invalid: namespaces starting with "
            "AWS/ are reserved for AWS services."
        )
    if not value or value.startswith(":"):
        raise InvalidParameterValueException(
            f"The value {value} for parameter Namespace is invalid."
        )
    return value


def dimensions(dims: list[dict[str, str]] | None, field: str = "Dimensions") -> None:
    names = [d["Name"] for d in dims or []]
    if len(names) != len(set(names)):
        raise InvalidParameterValueException(
            f"The collection {field} must not have duplicate dimension names."
        )
    for d in dims or []:
        if not d.get("Value"):
            raise InvalidParameterValueException(
                f"The value for parameter {field}.member.Value must not be empty."
            )


def period(value: int, field: str = "Period") -> int:
    if value in (1, 5, *HIGH_RESOLUTION_PERIODS) or (value >= 60 and value % 60 == 0):
        return value
    raise InvalidParameterValueException(
        f"The parameter {field} must be 10, 20, 30 or a multiple of 60 (was {value})."
    )


def metric_alarm(p: dict[str, Any]) -> None:
    """PutMetricAlarm's rules."""
    single = any(k in p for k in ("MetricName", "Namespace", "Statistic", "ExtendedStatistic"))
    if "Metrics" in p and single:
        raise InvalidParameterCombinationException(
            "The parameters MetricName, Namespace, Statistic and ExtendedStatistic cannot be "
            "used together with Metrics."
        )
    for name in ("ComparisonOperator", "EvaluationPeriods"):
        if name not in p:
            raise MissingRequiredParameterException(f"The parameter {name} is required.")
    comparison = p["ComparisonOperator"]
    if comparison not in set(Comparison):
        raise InvalidParameterValueException(
            f"ComparisonOperator {comparison} needs an anomaly detection band "
            "(ThresholdMetricId), which Dockyard does not support."
        )
    if "ThresholdMetricId" in p:
        raise InvalidParameterValueException(
            "ThresholdMetricId (anomaly detection bands) is not supported by Dockyard."
        )
    if "Threshold" not in p:
        raise MissingRequiredParameterException(
            "The parameter Threshold is required for alarms with a static threshold."
        )
    if "Metrics" in p:
        returned = [m for m in p["Metrics"] if m.get("ReturnData", True)]
        if len(returned) != 1:
            raise InvalidParameterValueException(
                "Exactly one element of the Metrics list must have ReturnData set to true."
            )
        for m in p["Metrics"]:
            if "MetricStat" in m:
                period(int(m["MetricStat"]["Period"]), "Metrics.member.MetricStat.Period")
        first = returned[0]
        span = int(first.get("Period") or first.get("MetricStat", {}).get("Period") or 60)
    else:
        for name in ("MetricName", "Namespace", "Period"):
            if name not in p:
                raise MissingRequiredParameterException(
                    f"The parameter {name} is required for a single-metric alarm."
                )
        if ("Statistic" in p) == ("ExtendedStatistic" in p):
            raise InvalidParameterCombinationException(
                "Exactly one of Statistic and ExtendedStatistic must be specified."
            )
        if "ExtendedStatistic" in p and not statistics.is_extended(p["ExtendedStatistic"]):
            raise InvalidParameterValueException(
                f"The value {p['ExtendedStatistic']} for parameter ExtendedStatistic is not "
                "supported."
            )
        dimensions(p.get("Dimensions"))
        span = period(int(p["Period"]))
    n = int(p["EvaluationPeriods"])
    if n < 1:
        raise InvalidParameterValueException("EvaluationPeriods must be at least 1.")
    m = int(p.get("DatapointsToAlarm", n))
    if not 1 <= m <= n:
        raise InvalidParameterValueException(
            f"DatapointsToAlarm ({m}) must be between 1 and EvaluationPeriods ({n})."
        )
    limit = WEEK if span >= 3600 else DAY
    if span * n > limit:
        raise InvalidParameterValueException(
            f"The evaluation period (Period x EvaluationPeriods = {span * n}s) must not exceed "
            f"{limit} seconds."
        )
    treat = p.get("TreatMissingData", TreatMissingData.MISSING)
    if treat not in set(TreatMissingData):
        raise InvalidParameterValueException(
            f"The value {treat} for parameter TreatMissingData is invalid: breaching, "
            "notBreaching, ignore or missing."
        )
    low = p.get("EvaluateLowSampleCountPercentile")
    if low is not None and low not in ("evaluate", "ignore"):
        raise InvalidParameterValueException(
            f"The value {low} for parameter EvaluateLowSampleCountPercentile is invalid: "
            "evaluate or ignore."
        )


def composite_rule(rule: str) -> None:
    try:
        composite.check(rule)
    except composite.RuleError as exc:
        raise InvalidParameterValueException(str(exc)) from exc


def actions(p: dict[str, Any], supported: tuple[str, ...]) -> None:
    """Every action ARN must be one Dockyard can run."""
    for field in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        for action in p.get(field) or []:
            if not any(action.startswith(prefix) for prefix in supported):
                raise InvalidParameterValueException(
                    f"Invalid arn syntax or unsupported action in {field}: {action}. Dockyard "
                    "runs Application Auto Scaling policy actions "
                    "(arn:aws:autoscaling:REGION:ACCOUNT:scalingPolicy:...) and notifies SNS "
                    "topics (arn:aws:sns:REGION:ACCOUNT:NAME); every state change "
                    "is also sent to EventBridge as a CloudWatch Alarm State Change event."
                )
