"""Metric operations: PutMetricData, GetMetricStatistics, GetMetricData, ListMetrics."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.metrics import Datum
from dockyard.core.paging import InvalidToken, page
from dockyard.services.cloudwatch import query, statistics, validation
from dockyard.services.cloudwatch.errors import (
    InvalidNextToken,
    InvalidParameterCombinationException,
    InvalidParameterValueException,
    MissingRequiredParameterException,
)
from dockyard.services.cloudwatch.model import MetricKey
from dockyard.services.cloudwatch.service import CloudWatch
from dockyard.services.cloudwatch.wire import seconds

MAX_DATUMS = 1000
MAX_VALUES = 150
MAX_DATAPOINTS = 1440
MAX_GET_DATA_POINTS = 100_800
LIST_PAGE = 500
TWO_WEEKS = 14 * 86_400
TWO_HOURS = 2 * 3600


def datum_of(namespace: str, d: dict[str, Any], now: float, index: int) -> Datum:
    field = f"MetricData.member.{index}"
    validation.dimensions(d.get("Dimensions"), f"{field}.Dimensions")
    has_value, has_set, has_values = "Value" in d, "StatisticValues" in d, "Values" in d
    if has_value + has_set + has_values > 1:
        raise InvalidParameterCombinationException(
            f"The parameters {field}.Value, {field}.StatisticValues and {field}.Values are "
            "mutually exclusive."
        )
    if not (has_value or has_set or has_values):
        raise MissingRequiredParameterException(
            f"One of {field}.Value, {field}.StatisticValues or {field}.Values is required."
        )
    ts = seconds(d["Timestamp"]) if "Timestamp" in d else now
    if ts < now - TWO_WEEKS or ts > now + TWO_HOURS:
        raise InvalidParameterValueException(
            f"The parameter {field}.Timestamp must be within the last two weeks and no more "
            "than two hours in the future."
        )
    resolution = d.get("StorageResolution", 60)
    if resolution not in (1, 60):
        raise InvalidParameterValueException(
            f"The value {resolution} for parameter {field}.StorageResolution is invalid: 1 or 60."
        )
    dims = tuple(sorted((x["Name"], x["Value"]) for x in d.get("Dimensions") or []))
    unit = d.get("Unit") or "None"
    if has_value:
        return Datum(namespace, d["MetricName"], dims, ts, unit,
                     value=validation.number(float(d["Value"]), f"{field}.Value"))  # fmt: skip
    if has_set:
        s = d["StatisticValues"]
        for name in ("SampleCount", "Sum", "Minimum", "Maximum"):
            validation.number(float(s[name]), f"{field}.StatisticValues.{name}")
        if s["SampleCount"] <= 0 or s["Minimum"] > s["Maximum"]:
            raise InvalidParameterValueException(
                f"The parameter {field}.StatisticValues is invalid: SampleCount must be "
                "positive and Minimum not above Maximum."
            )
        return Datum(namespace, d["MetricName"], dims, ts, unit, count=float(s["SampleCount"]),
                     sum=float(s["Sum"]), minimum=float(s["Minimum"]),
                     maximum=float(s["Maximum"]))  # fmt: skip
    values = [validation.number(float(v), f"{field}.Values") for v in d["Values"]]
    counts = d.get("Counts")
    if len(values) > MAX_VALUES:
        raise InvalidParameterValueException(
            f"The collection {field}.Values must not have more than {MAX_VALUES} items."
        )
    if counts is not None and len(counts) != len(values):
        raise InvalidParameterValueException(
            f"The parameters {field}.Values and {field}.Counts must be of the same size."
        )
    expanded: list[float] = []
    for i, v in enumerate(values):
        expanded.extend([v] * max(1, int(counts[i] if counts else 1)))
    return Datum(namespace, d["MetricName"], dims, ts, unit, values=tuple(expanded))


def handlers(cw: CloudWatch) -> dict[str, Handler]:
    def put_metric_data(ctx: RequestContext, p: Params) -> Result:
        namespace = validation.namespace(p["Namespace"])
        items = p.get("MetricData") or []
        if p.get("EntityMetricData"):
            for entity in p["EntityMetricData"]:
                items = [*items, *(entity.get("MetricData") or [])]
        if not items:
            raise MissingRequiredParameterException("The parameter MetricData is required.")
        if len(items) > MAX_DATUMS:
            raise InvalidParameterValueException(
                f"The collection MetricData must not have more than {MAX_DATUMS} items."
            )
        now = cw.clock.now()
        data = [datum_of(namespace, d, now, i + 1) for i, d in enumerate(items)]
        cw.record_all(scope_of(ctx), data)
        return {}

    def get_metric_statistics(ctx: RequestContext, p: Params) -> Result:
        stats = p.get("Statistics") or []
        extended = p.get("ExtendedStatistics") or []
        if not stats and not extended:
            raise MissingRequiredParameterException(
                "Either Statistics or ExtendedStatistics must be specified."
            )
        for name in extended:
            if not statistics.is_extended(name):
                raise InvalidParameterValueException(
                    f"The value {name} for parameter ExtendedStatistics is not a valid statistic."
                )
        period = validation.period(int(p["Period"]))
        start, end = seconds(p["StartTime"]), seconds(p["EndTime"])
        if end <= start:
            raise InvalidParameterValueException("The parameter StartTime must be before EndTime.")
        if (end - start) / period > MAX_DATAPOINTS:
            raise InvalidParameterCombinationException(
                f"You have requested up to {int((end - start) / period)} datapoints, which "
                f"exceeds the limit of {MAX_DATAPOINTS}. You may reduce the datapoints requested "
                "by increasing Period, or decreasing the time range."
            )
        validation.dimensions(p.get("Dimensions"))
        key = MetricKey.of(p["Namespace"], p["MetricName"], p.get("Dimensions"))
        buckets = cw.metrics.buckets(scope_of(ctx), key, start, end, period, p.get("Unit"))
        points = [
            cw.datapoint(key, agg, p.get("Unit") or unit, ts, stats, extended)
            for ts, (agg, unit) in buckets.items()
        ]
        return {"Label": p["MetricName"], "Datapoints": points}

    def get_metric_data(ctx: RequestContext, p: Params) -> Result:
        start, end = seconds(p["StartTime"]), seconds(p["EndTime"])
        if end <= start:
            raise InvalidParameterValueException("The parameter StartTime must be before EndTime.")
        if p.get("NextToken"):
            raise InvalidNextToken("The NextToken is not valid.")
        results = query.run(cw.metrics, scope_of(ctx), p["MetricDataQueries"], start, end)
        descending = p.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        limit = int(p.get("MaxDatapoints") or MAX_GET_DATA_POINTS)
        out = []
        for r in results:
            if not r.return_data:
                continue
            items = sorted(r.series.items(), reverse=descending)[:limit]
            out.append({
                "Id": r.id,
                "Label": r.label,
                "Timestamps": [t for t, _ in items],
                "Values": [v for _, v in items],
                "StatusCode": r.status,
            })  # fmt: skip
        return {"MetricDataResults": out, "Messages": []}

    def list_metrics(ctx: RequestContext, p: Params) -> Result:
        wanted = p.get("Dimensions") or []
        recent = p.get("RecentlyActive")
        cutoff = cw.clock.now() - 3 * 3600 if recent == "PT3H" else None
        found = []
        for series in cw.metrics.metrics(scope_of(ctx)):
            key = series.key
            if p.get("Namespace") and key.namespace != p["Namespace"]:
                continue
            if p.get("MetricName") and key.name != p["MetricName"]:
                continue
            dims = dict(key.dimensions)
            if any(f["Name"] not in dims or ("Value" in f and dims[f["Name"]] != f["Value"])
                   for f in wanted):  # fmt: skip
                continue
            if cutoff is not None and series.last_put < cutoff:
                continue
            found.append(key)
        found.sort(key=_sort_key)
        try:
            chunk, token = page(found, _sort_key, p.get("NextToken"), LIST_PAGE, LIST_PAGE)
        except InvalidToken as exc:
            raise InvalidNextToken("The NextToken is not valid.") from exc
        out: Result = {"Metrics": [k.to_wire() for k in chunk]}
        if token:
            out["NextToken"] = token
        return out

    return {
        "PutMetricData": put_metric_data,
        "GetMetricStatistics": get_metric_statistics,
        "GetMetricData": get_metric_data,
        "ListMetrics": list_metrics,
    }


def _sort_key(key: MetricKey) -> str:
    return "\x00".join([key.namespace, key.name, *(f"{n}={v}" for n, v in key.dimensions)])
