"""The capacity a policy asks for (pure): step adjustments and target tracking."""

from __future__ import annotations

import math
from typing import Any


def step_for(delta: float, steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The step adjustment whose interval holds `delta` (metric value minus threshold)."""
    for step in steps:
        lo = step.get("MetricIntervalLowerBound")
        hi = step.get("MetricIntervalUpperBound")
        lo_ok = lo is None or delta >= float(lo)
        hi_ok = hi is None or delta < float(hi)
        if lo is not None and hi is None:
            lo_ok = delta >= float(lo)
        if lo is None and hi is not None:
            hi_ok = delta <= float(hi)
        if lo_ok and hi_ok:
            return step
    return None


def percent_change(current: int, percent: float, min_magnitude: int | None) -> int:
    raw = current * percent / 100.0
    if 0 < raw < 1:
        change = 1
    elif -1 < raw < 0:
        change = -1
    else:
        change = math.floor(raw) if raw > 0 else math.ceil(raw)
    if min_magnitude and abs(change) < min_magnitude and change != 0:
        change = min_magnitude if change > 0 else -min_magnitude
    if min_magnitude and change == 0 and percent != 0:
        change = min_magnitude if percent > 0 else -min_magnitude
    return current + change


def step_capacity(config: dict[str, Any], current: int, delta: float) -> int | None:
    """The new capacity a step scaling policy asks for, or None when no step applies."""
    step = step_for(delta, config.get("StepAdjustments") or [])
    if step is None:
        return None
    adjustment = step["ScalingAdjustment"]
    kind = config.get("AdjustmentType", "ChangeInCapacity")
    if kind == "ExactCapacity":
        return int(adjustment)
    if kind == "PercentChangeInCapacity":
        return percent_change(current, float(adjustment), config.get("MinAdjustmentMagnitude"))
    return current + int(adjustment)


def tracking_capacity(current: int, value: float, target: float) -> int:
    """The capacity that brings the metric to the target, assuming it scales with capacity."""
    if current <= 0:
        return 1 if value > 0 else 0
    wanted = current * value / target
    return max(0, math.ceil(wanted - 1e-9))


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
