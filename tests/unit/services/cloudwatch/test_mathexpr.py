from __future__ import annotations

import pytest

from dockyard.services.cloudwatch.mathexpr import Grid, Labelled, MathError, evaluate

M1 = {0.0: 1.0, 60.0: 2.0, 180.0: 4.0}
M2 = {0.0: 10.0, 60.0: 20.0, 120.0: 30.0}
GRID = Grid(0, 240, 60)


def run(text: str) -> object:
    series = {"m1": M1, "m2": M2}

    def resolve(name: str) -> dict[float, float]:
        if name not in series:
            raise MathError(f"unknown {name}")
        return dict(series[name])

    def all_metrics() -> list[Labelled]:
        return [Labelled(k, k, v) for k, v in series.items()]

    return evaluate(text, resolve, all_metrics, GRID)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("m1 + m2", {0.0: 11.0, 60.0: 22.0}),
        ("m1 * 2 + 1", {0.0: 3.0, 60.0: 5.0, 180.0: 9.0}),
        ("(m2 - m1) / m1", {0.0: 9.0, 60.0: 9.0}),
        ("m1 ^ 2", {0.0: 1.0, 60.0: 4.0, 180.0: 16.0}),
        ("-m1", {0.0: -1.0, 60.0: -2.0, 180.0: -4.0}),
        ("SUM(METRICS())", {0.0: 11.0, 60.0: 22.0, 120.0: 30.0, 180.0: 4.0}),
        ("MAX([m1, m2])", {0.0: 10.0, 60.0: 20.0, 120.0: 30.0, 180.0: 4.0}),
        ("AVG(m1)", 7.0 / 3),
        ("SUM(m2)", 60.0),
        ("FILL(m1, 0)", {0.0: 1.0, 60.0: 2.0, 120.0: 0.0, 180.0: 4.0}),
        ("FILL(m1, REPEAT)", {0.0: 1.0, 60.0: 2.0, 120.0: 2.0, 180.0: 4.0}),
        ("FILL(m1, LINEAR)", {0.0: 1.0, 60.0: 2.0, 120.0: 3.0, 180.0: 4.0}),
        ("DIFF(m2)", {60.0: 10.0, 120.0: 10.0}),
        ("RATE(m2)", {60.0: 10 / 60, 120.0: 10 / 60}),
        ("ABS(m1 - 3)", {0.0: 2.0, 60.0: 1.0, 180.0: 1.0}),
        ("PERIOD(m1)", {0.0: 60.0, 60.0: 60.0, 180.0: 60.0}),
    ],
)
def test_expressions(text: str, expected: object) -> None:
    got = run(text)
    if isinstance(expected, float):
        assert got == pytest.approx(expected)
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize("text", ["m1 +", "m1 $ 2", "NOPE(m1)", "(m1", "m3"])
def test_bad_expressions(text: str) -> None:
    with pytest.raises(MathError):
        run(text)
