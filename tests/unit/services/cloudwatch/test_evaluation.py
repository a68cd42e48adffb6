"""Alarm evaluation: M of N, and each way of treating missing data (CloudWatch's table)."""

from __future__ import annotations

import pytest

from dockyard.services.cloudwatch.evaluation import Rule, evaluate

GT = "GreaterThanThreshold"


def points(pattern: str) -> list[tuple[float, float | None]]:
    """`0` not breaching, `X` breaching, `-` missing; oldest first, one minute apart."""
    value = {"0": 1.0, "X": 100.0, "-": None}
    return [(60.0 * i, value[c]) for i, c in enumerate(pattern.split())]


# CloudWatch's documented examples for 3 evaluation periods, 3 datapoints to alarm.
TABLE = [
    ("0 - X - X", {"missing": "OK", "ignore": "OK", "breaching": "OK", "notBreaching": "OK"}),
    ("- - - - 0", {"missing": "OK", "ignore": "OK", "breaching": "OK", "notBreaching": "OK"}),
    ("- - - - -", {"missing": "INSUFFICIENT_DATA", "ignore": "PREVIOUS", "breaching": "ALARM",
                   "notBreaching": "OK"}),
    ("0 X X - X", {"missing": "ALARM", "ignore": "ALARM", "breaching": "ALARM",
                   "notBreaching": "ALARM"}),
    ("- - X - -", {"missing": "OK", "ignore": "OK", "breaching": "ALARM", "notBreaching": "OK"}),
]  # fmt: skip


@pytest.mark.parametrize(("pattern", "expected"), TABLE)
@pytest.mark.parametrize("treat", ["missing", "ignore", "breaching", "notBreaching"])
@pytest.mark.parametrize("previous", ["OK", "ALARM"])
def test_treat_missing_data_table(
    pattern: str, expected: dict[str, str], treat: str, previous: str
) -> None:
    rule = Rule(threshold=50, comparison=GT, evaluation_periods=3, datapoints_to_alarm=3,
                treat_missing=treat)  # fmt: skip
    want = expected[treat]
    assert evaluate(points(pattern), rule, previous).state == (
        previous if want == "PREVIOUS" else want
    )


@pytest.mark.parametrize(
    ("pattern", "m", "n", "state"),
    [
        ("0 0 X 0 X", 2, 3, "ALARM"),  # last 3: X 0 X -> 2 of 3
        ("0 0 X 0 X", 3, 3, "OK"),
        ("X X 0 0 X", 2, 3, "OK"),  # last 3: 0 0 X
        ("0 X X X X", 4, 5, "ALARM"),
        ("X 0 X 0 X", 3, 5, "ALARM"),
        ("X 0 X 0 0", 3, 5, "OK"),
        ("0 0 0 0 X", 1, 1, "ALARM"),
        ("X X X X 0", 1, 1, "OK"),
    ],
)
def test_m_of_n(pattern: str, m: int, n: int, state: str) -> None:
    rule = Rule(threshold=50, comparison=GT, evaluation_periods=n, datapoints_to_alarm=m)
    assert evaluate(points(pattern), rule, "INSUFFICIENT_DATA").state == state


def test_missing_points_are_skipped_for_older_real_ones() -> None:
    # 2 of 3 with a gap: the 3 most recent real datapoints are X, X, 0.
    rule = Rule(threshold=50, comparison=GT, evaluation_periods=3, datapoints_to_alarm=2)
    outcome = evaluate(points("X X - 0 - -"), rule, "OK")
    assert outcome.state == "ALARM"
    assert [v for _, v in outcome.evaluated] == [100.0, 100.0, 1.0]


def test_breaching_fills_only_as_many_as_needed() -> None:
    rule = Rule(threshold=50, comparison=GT, evaluation_periods=3, datapoints_to_alarm=3,
                treat_missing="breaching")  # fmt: skip
    # One real non-breaching datapoint + 2 filled breaching = 2 of 3: not enough.
    assert evaluate(points("- - 0 - -"), rule, "OK").state == "OK"
    rule2 = Rule(threshold=50, comparison=GT, evaluation_periods=3, datapoints_to_alarm=2,
                 treat_missing="breaching")  # fmt: skip
    assert evaluate(points("- - 0 - -"), rule2, "OK").state == "ALARM"


@pytest.mark.parametrize(
    ("comparison", "value", "breaches"),
    [
        ("GreaterThanThreshold", 50.0, False),
        ("GreaterThanOrEqualToThreshold", 50.0, True),
        ("LessThanThreshold", 50.0, False),
        ("LessThanOrEqualToThreshold", 50.0, True),
        ("LessThanThreshold", 10.0, True),
        ("GreaterThanThreshold", 51.0, True),
    ],
)
def test_comparison_operators(comparison: str, value: float, breaches: bool) -> None:
    rule = Rule(threshold=50, comparison=comparison, evaluation_periods=1, datapoints_to_alarm=1)
    state = evaluate([(0.0, value)], rule, "OK").state
    assert state == ("ALARM" if breaches else "OK")


def test_reason_names_datapoints_and_threshold() -> None:
    rule = Rule(threshold=50, comparison=GT, evaluation_periods=2, datapoints_to_alarm=2)
    outcome = evaluate(points("X X"), rule, "OK")
    assert outcome.reason.startswith("Threshold Crossed: 2 out of the last 2 datapoints [100.0")
    assert "greater than the threshold (50" in outcome.reason
    assert outcome.recent == 100.0
