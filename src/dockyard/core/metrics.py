"""How parts of Dockyard publish CloudWatch metrics without importing the CloudWatch service.

The CloudWatch service implements `MetricSink`; the server's composition root hands it to
whoever measures something (ECS task stats, the load balancer data plane).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Datum:
    """One measurement: a single value or a statistic set (count, sum, min, max)."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp: float  # epoch seconds
    unit: str = "None"
    value: float | None = None
    count: float = 1.0
    sum: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[float, ...] = field(default=())


class MetricSink(Protocol):
    def publish(self, account_id: str, region: str, data: list[Datum]) -> None:
        """Record measurements as PutMetricData would."""
        ...
