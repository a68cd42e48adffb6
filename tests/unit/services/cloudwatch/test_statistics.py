from __future__ import annotations

import pytest

from dockyard.services.cloudwatch.statistics import Aggregate, extended, is_extended


def agg(values: list[float]) -> Aggregate:
    a = Aggregate()
    for v in values:
        a.add_value(v)
    return a


def test_standard_statistics() -> None:
    a = agg([1, 2, 3, 4, 10])
    assert [a.statistic(s) for s in ("SampleCount", "Sum", "Average", "Minimum", "Maximum")] == [
        5,
        20,
        4,
        1,
        10,
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("p50", 50.0), ("p99", 99.0), ("p100", 100.0), ("p0.1", 1.0), ("tm10", 5.5),
     ("tm(10%:90%)", 50.5), ("tc90", 90.0), ("ts10", 55.0), ("IQM", 50.5), ("pr(:50)", 50.0)],
)  # fmt: skip
def test_extended_statistics(name: str, expected: float) -> None:
    values = [float(v) for v in range(1, 101)]
    assert is_extended(name)
    assert extended(name, values) == pytest.approx(expected)


def test_percentiles_need_raw_values() -> None:
    a = Aggregate()
    a.add_set(10, 100, 1, 20)
    assert a.statistic("Average") == 10
    assert a.statistic("p90") is None


@pytest.mark.parametrize("name", ["p", "p101", "Avg", "tm(a:b)"])
def test_not_statistics(name: str) -> None:
    assert not is_extended(name)
