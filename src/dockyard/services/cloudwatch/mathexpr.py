"""Metric math: parse and evaluate GetMetricData expressions.

Values are time series (period start -> value), scalars, or arrays of labelled series
(`METRICS()`, `[m1, m2]`). Arithmetic aligns series on their common timestamps and applies
scalars to every point. Functions: ABS, AVG, CEIL, DIFF, FILL (value, REPEAT, LINEAR),
FLOOR, LOG, LOG10, MAX, METRICS, MIN, PERIOD, RATE, SQRT, STDDEV, SUM.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics as pystats
from collections.abc import Callable
from dataclasses import dataclass

TimeSeries = dict[float, float]


@dataclass(slots=True)
class Labelled:
    id: str
    label: str
    series: TimeSeries


Value = float | TimeSeries | list[Labelled]


class MathError(ValueError):
    """An expression that cannot be parsed or evaluated; the message says why."""


@dataclass(slots=True)
class Grid:
    start: float
    end: float
    period: int

    def timestamps(self) -> list[float]:
        first = math.ceil(self.start / self.period) * self.period
        return [float(t) for t in range(int(first), int(self.end), self.period)]


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<str>\"[^\"]*\"|'[^']*')|(?P<op>[-+*/^(),\[\]]))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise MathError(f"Unexpected character at position {pos} in expression: {text}")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind]))
        pos = match.end()
    return tokens


Resolver = Callable[[str], Value]


class Evaluator:
    def __init__(self, text: str, resolve: Resolver, all_metrics: Callable[[], list[Labelled]],
                 grid: Grid) -> None:  # fmt: skip
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.resolve = resolve
        self.all_metrics = all_metrics
        self.grid = grid

    # -- parsing and evaluating in one pass -------------------------------------------

    def run(self) -> Value:
        if not self.tokens:
            raise MathError("Empty expression.")
        value = self.expr()
        if self.pos != len(self.tokens):
            raise MathError(f"Unexpected '{self.tokens[self.pos][1]}' in expression: {self.text}")
        return value

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise MathError(f"Unexpected end of expression: {self.text}")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise MathError(f"Expected '{expected}' but found '{token[1]}' in: {self.text}")
        self.pos += 1
        return token

    def expr(self) -> Value:
        left = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            left = binary(op, left, self.term())
        return left

    def term(self) -> Value:
        left = self.power()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            left = binary(op, left, self.power())
        return left

    def power(self) -> Value:
        base = self.unary()
        if self.peek() == "^":
            self.take()
            return binary("^", base, self.power())
        return base

    def unary(self) -> Value:
        if self.peek() == "-":
            self.take()
            return binary("*", -1.0, self.unary())
        return self.primary()

    def primary(self) -> Value:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if text == "(":
            value = self.expr()
            self.take(")")
            return value
        if text == "[":
            items: list[Labelled] = []
            while True:
                start = self.pos
                value = self.expr()
                items.extend(as_array(value, " ".join(t for _, t in self.tokens[start : self.pos])))
                if self.peek() == ",":
                    self.take()
                    continue
                self.take("]")
                return items
        if kind == "str":
            raise MathError(f"Unexpected string {text} in expression: {self.text}")
        if kind == "id" and self.peek() == "(":
            self.take("(")
            args: list[Value | str] = []
            while self.peek() != ")":
                nxt = self.tokens[self.pos] if self.pos < len(self.tokens) else ("", "")
                if nxt[0] == "str" or (nxt[1] in ("REPEAT", "LINEAR")):
                    self.take()
                    args.append(nxt[1].strip("\"'") if nxt[0] == "str" else nxt[1])
                else:
                    args.append(self.expr())
                if self.peek() == ",":
                    self.take()
                elif self.peek() != ")":
                    raise MathError(f"Expected ',' or ')' in expression: {self.text}")
            self.take(")")
            return self.call(text.upper(), args)
        if kind == "id":
            return self.resolve(text)
        raise MathError(f"Unexpected '{text}' in expression: {self.text}")

    # -- functions ---------------------------------------------------------------------

    def call(self, name: str, args: list[Value | str]) -> Value:
        if name == "METRICS":
            flt = args[0] if args else ""
            if not isinstance(flt, str):
                raise MathError("METRICS takes an optional string filter.")
            return [m for m in self.all_metrics() if flt in m.id or flt in m.label]
        if not args:
            raise MathError(f"{name} needs an argument.")
        first = args[0]
        if isinstance(first, str):
            raise MathError(f"{name} does not take a string as its first argument.")
        if name in ("SUM", "AVG", "MIN", "MAX", "STDDEV"):
            return reduce_(name, first)
        if name in _ELEMENTWISE:
            return elementwise(_ELEMENTWISE[name], first)
        if name == "RATE":
            return per_series(first, lambda s: _delta(s, per_second=True))
        if name == "DIFF":
            return per_series(first, lambda s: _delta(s, per_second=False))
        if name == "PERIOD":
            return per_series(first, lambda s: {t: float(self.grid.period) for t in s})
        if name == "FILL":
            if len(args) != 2:
                raise MathError("FILL takes a series and a value, REPEAT or LINEAR.")
            how = args[1]
            return per_series(first, lambda s: self.fill(s, how))
        raise MathError(f"Unsupported function {name} in expression: {self.text}")

    def fill(self, series: TimeSeries, how: Value | str) -> TimeSeries:
        grid = self.grid.timestamps()
        out: TimeSeries = {}
        known = sorted(series.items())
        for t in grid:
            if t in series:
                out[t] = series[t]
                continue
            before = [(bt, bv) for bt, bv in known if bt < t]
            after = [(at, av) for at, av in known if at > t]
            if how == "REPEAT":
                if before:
                    out[t] = before[-1][1]
                elif after:
                    out[t] = after[0][1]
            elif how == "LINEAR":
                if before and after:
                    (t0, v0), (t1, v1) = before[-1], after[0]
                    out[t] = v0 + (v1 - v0) * (t - t0) / (t1 - t0)
            elif isinstance(how, float):
                out[t] = how
            else:
                raise MathError("FILL's second argument must be a number, REPEAT or LINEAR.")
        return out


_ELEMENTWISE: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": lambda v: float(math.ceil(v)),
    "FLOOR": lambda v: float(math.floor(v)),
    "SQRT": lambda v: math.sqrt(v) if v >= 0 else math.nan,
    "LOG": lambda v: math.log(v) if v > 0 else math.nan,
    "LOG10": lambda v: math.log10(v) if v > 0 else math.nan,
}


def as_array(value: Value, label: str) -> list[Labelled]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [Labelled(label, label, value)]
    raise MathError("An array can hold only time series.")


def _delta(series: TimeSeries, *, per_second: bool) -> TimeSeries:
    items = sorted(series.items())
    out: TimeSeries = {}
    for (t0, v0), (t1, v1) in itertools.pairwise(items):
        out[t1] = (v1 - v0) / (t1 - t0) if per_second else v1 - v0
    return out


def per_series(value: Value, fn: Callable[[TimeSeries], TimeSeries]) -> Value:
    if isinstance(value, list):
        return [Labelled(m.id, m.label, fn(m.series)) for m in value]
    if isinstance(value, dict):
        return fn(value)
    raise MathError("This function needs a time series.")


def elementwise(fn: Callable[[float], float], value: Value) -> Value:
    if isinstance(value, float):
        return fn(value)
    return per_series(value, lambda s: {t: fn(v) for t, v in s.items()})


def _reduce_values(name: str, values: list[float]) -> float:
    if name == "SUM":
        return float(sum(values))
    if name == "AVG":
        return sum(values) / len(values)
    if name == "MIN":
        return min(values)
    if name == "MAX":
        return max(values)
    return pystats.pstdev(values) if len(values) > 1 else 0.0


def reduce_(name: str, value: Value) -> Value:
    if isinstance(value, float):
        return value
    if isinstance(value, dict):
        if not value:
            return math.nan
        return _reduce_values(name, list(value.values()))
    stamps: dict[float, list[float]] = {}
    for m in value:
        for t, v in m.series.items():
            stamps.setdefault(t, []).append(v)
    return {t: _reduce_values(name, vs) for t, vs in sorted(stamps.items())}


def _apply(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b if b != 0 else math.nan
        return float(a**b)
    except (OverflowError, ZeroDivisionError, ValueError):
        return math.nan


def binary(op: str, left: Value, right: Value) -> Value:
    if isinstance(left, list) or isinstance(right, list):
        if isinstance(left, list) and isinstance(right, list):
            raise MathError("Arithmetic between two arrays of time series is not supported.")
        if isinstance(left, list):
            return [Labelled(m.id, m.label, _as_series(binary(op, m.series, right))) for m in left]
        assert isinstance(right, list)
        return [Labelled(m.id, m.label, _as_series(binary(op, left, m.series))) for m in right]
    if isinstance(left, float) and isinstance(right, float):
        return _apply(op, left, right)
    if isinstance(left, float):
        assert isinstance(right, dict)
        return {t: _apply(op, left, v) for t, v in right.items()}
    if isinstance(right, float):
        return {t: _apply(op, v, right) for t, v in left.items()}
    return {t: _apply(op, v, right[t]) for t, v in left.items() if t in right}


def _as_series(value: Value) -> TimeSeries:
    if not isinstance(value, dict):
        raise MathError("Expected a time series.")
    return value


def evaluate(text: str, resolve: Resolver, all_metrics: Callable[[], list[Labelled]],
             grid: Grid) -> Value:  # fmt: skip
    return Evaluator(text, resolve, all_metrics, grid).run()


def referenced_ids(text: str) -> set[str]:
    """Identifiers an expression names (besides function names and keywords)."""
    tokens = tokenize(text)
    out: set[str] = set()
    for i, (kind, value) in enumerate(tokens):
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else None
        if kind == "id" and nxt != "(" and value not in ("REPEAT", "LINEAR"):
            out.add(value)
    return out
