from __future__ import annotations

from typing import Any

import pytest

from dockyard.services.autoscaling.planning import (
    clamp,
    percent_change,
    step_capacity,
    tracking_capacity,
)

STEPS: dict[str, Any] = {"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
    {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
    {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 3},
]}  # fmt: skip


@pytest.mark.parametrize(("delta", "expected"), [(0, 5), (5, 5), (10, 7), (500, 7), (-1, None)])
def test_step_adjustments(delta: float, expected: int | None) -> None:
    assert step_capacity(STEPS, 4, delta) == expected


def test_exact_and_percent() -> None:
    step = {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 9}
    exact = {"AdjustmentType": "ExactCapacity", "StepAdjustments": [step]}
    assert step_capacity(exact, 4, 1) == 9
    ten = {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 10}
    pct = {"AdjustmentType": "PercentChangeInCapacity", "MinAdjustmentMagnitude": 2,
           "StepAdjustments": [ten]}  # fmt: skip
    assert step_capacity(pct, 4, 1) == 6  # 10 % of 4 rounds to 1, raised to the minimum of 2


@pytest.mark.parametrize(
    ("current", "percent", "magnitude", "expected"),
    [(10, 25, None, 12), (10, -25, None, 8), (3, 10, None, 4), (3, -10, None, 2), (10, 50, 8, 18)],
)
def test_percent_change(current: int, percent: float, magnitude: int | None, expected: int) -> None:
    assert percent_change(current, percent, magnitude) == expected


@pytest.mark.parametrize(
    ("current", "value", "target", "expected"),
    [(2, 90, 50, 4), (4, 20, 50, 2), (3, 50, 50, 3), (0, 10, 50, 1), (1, 100, 50, 2)],
)
def test_target_tracking(current: int, value: float, target: float, expected: int) -> None:
    assert tracking_capacity(current, value, target) == expected


def test_min_max_hold() -> None:
    assert clamp(10, 1, 4) == 4 and clamp(0, 1, 4) == 1 and clamp(3, 1, 4) == 3
