"""GetMetricData: metric queries (MetricStat) and metric math over them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from dockyard.core.scope import Scope
from dockyard.services.cloudwatch import mathexpr
from dockyard.services.cloudwatch.errors import (
    InvalidParameterCombinationException,
    InvalidParameterValueException,
)
from dockyard.services.cloudwatch.mathexpr import Grid, Labelled, MathError, TimeSeries, Value
from dockyard.services.cloudwatch.metrics import MetricStore
from dockyard.services.cloudwatch.model import MetricKey

_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


@dataclass(slots=True)
class Result:
    id: str
    label: str
    series: TimeSeries
    return_data: bool
    status: str = "Complete"
    message: str | None = None


def metric_label(key: MetricKey) -> str:
    return key.name


def run(
    store: MetricStore,
    scope: Scope,
    queries: list[dict[str, Any]],
    start: float,
    end: float,
) -> list[Result]:
    """Every query's result, in the order given (also those with ReturnData false)."""
    if not queries:
        raise InvalidParameterValueException("The parameter MetricDataQueries must not be empty.")
    by_id: dict[str, dict[str, Any]] = {}
    for q in queries:
        qid = q.get("Id", "")
        if not _ID.match(qid):
            raise InvalidParameterValueException(
                f"The value {qid} for parameter MetricDataQueries.member.Id is not valid: "
                "it must start with a lowercase letter and hold only letters, digits and _."
            )
        if qid in by_id:
            raise InvalidParameterValueException(f"The value {qid} for parameter Id is duplicated.")
        if ("MetricStat" in q) == ("Expression" in q):
            raise InvalidParameterCombinationException(
                f"Exactly one of MetricStat and Expression must be given (query {qid})."
            )
        by_id[qid] = q
    done: dict[str, Result] = {}
    visiting: set[str] = set()
    default_period = min(
        (int(q["MetricStat"]["Period"]) for q in queries if "MetricStat" in q), default=60
    )

    def compute(qid: str) -> Result:
        if qid in done:
            return done[qid]
        if qid in visiting:
            raise InvalidParameterValueException(f"Circular dependency on query {qid}.")
        q = by_id.get(qid)
        if q is None:
            raise InvalidParameterValueException(f"Unknown metric id {qid} in an expression.")
        visiting.add(qid)
        ret = bool(q.get("ReturnData", True))
        if "MetricStat" in q:
            stat = q["MetricStat"]
            key = MetricKey.of(
                stat["Metric"].get("Namespace", ""),
                stat["Metric"].get("MetricName", ""),
                stat["Metric"].get("Dimensions"),
            )
            period = int(stat["Period"])
            if (
                period <= 0
                or (period >= 60 and period % 60)
                or (period < 60 and period not in (1, 5, 10, 20, 30))
            ):
                raise InvalidParameterValueException(
                    f"The parameter MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of "
                    f"60 (query {qid}: {period})."
                )
            series = store.statistic_series(
                scope, key, stat["Stat"], start, end, period, stat.get("Unit")
            )
            result = Result(qid, q.get("Label") or metric_label(key), series, ret)
        else:
            period = int(q.get("Period") or default_period)
            grid = Grid(start, end, period)

            def resolve(name: str) -> Value:
                return dict(compute(name).series)

            def all_metrics() -> list[Labelled]:
                return [
                    Labelled(other, compute(other).label, compute(other).series)
                    for other, oq in by_id.items()
                    if "MetricStat" in oq
                ]

            try:
                value = mathexpr.evaluate(q["Expression"], resolve, all_metrics, grid)
            except MathError as exc:
                raise InvalidParameterValueException(f"Error in expression {qid}: {exc}") from exc
            result = _result_of(qid, q, value, grid, ret)
        visiting.discard(qid)
        done[qid] = result
        return result

    return [compute(q["Id"]) for q in queries]


def _result_of(qid: str, q: dict[str, Any], value: Value, grid: Grid, ret: bool) -> Result:
    label = q.get("Label") or qid
    if isinstance(value, float):
        series = {t: value for t in grid.timestamps()}
        return Result(qid, label, series, ret)
    if isinstance(value, dict):
        return Result(qid, label, {t: v for t, v in value.items() if not math.isnan(v)}, ret)
    if len(value) == 1:
        return Result(qid, label, value[0].series, ret)
    raise InvalidParameterValueException(
        f"The expression of query {qid} returns {len(value)} time series; "
        "an expression must return a single time series here."
    )
