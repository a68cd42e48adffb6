"""Statistics over the samples of one period: the standard five and extended statistics.

Percentiles (pNN), trimmed means (tmNN, tm(a%:b%)), trimmed counts and sums (tcNN, tsNN),
winsorized means (wmNN) and IQM need raw values; a period that holds statistic sets without
values answers only the standard statistics, as CloudWatch does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

STANDARD = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")

_EXTENDED = re.compile(
    r"^(?P<kind>p|tm|tc|ts|wm|pr)(?:(?P<single>\d{1,2}(?:\.\d{1,10})?|100)"
    r"|\((?P<lo>\d{0,2}(?:\.\d+)?%?):(?P<hi>\d{0,3}(?:\.\d+)?%?)\))$"
)


@dataclass(slots=True)
class Aggregate:
    """Everything the samples of a period say: count, sum, min, max and raw values."""

    count: float = 0.0
    sum: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    values: list[float] = field(default_factory=list)
    complete_values: bool = True  # False once a statistic set without values was added

    def add_value(self, value: float, count: float = 1.0) -> None:
        self.count += count
        self.sum += value * count
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self.values.extend([value] * max(1, int(count)))

    def add_set(self, count: float, total: float, minimum: float, maximum: float) -> None:
        self.count += count
        self.sum += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        self.complete_values = False

    @property
    def empty(self) -> bool:
        return self.count <= 0

    def standard(self, name: str) -> float:
        if name == "SampleCount":
            return self.count
        if name == "Sum":
            return self.sum
        if name == "Average":
            return self.sum / self.count if self.count else 0.0
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        raise ValueError(name)

    def statistic(self, name: str) -> float | None:
        """The named statistic; None when this period cannot answer it."""
        if name in STANDARD:
            return None if self.empty else self.standard(name)
        if not self.complete_values or not self.values:
            return None
        return extended(name, sorted(self.values))


def is_extended(name: str) -> bool:
    return name.upper() == "IQM" or _EXTENDED.match(name) is not None


def is_statistic(name: str) -> bool:
    return name in STANDARD or is_extended(name)


def _bound(text: str | None, values: list[float], default: float) -> tuple[float, bool]:
    """(number, is_percent) of one side of a `(lo:hi)` range."""
    if not text:
        return default, True
    if text.endswith("%"):
        return float(text[:-1]), True
    return float(text), False


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if p <= 0:
        return values[0]
    rank = math.ceil(p / 100.0 * len(values))
    return values[min(len(values), max(1, rank)) - 1]


def _within(values: list[float], lo: str | None, hi: str | None) -> list[float]:
    lo_n, lo_pct = _bound(lo, values, 0.0)
    hi_n, hi_pct = _bound(hi, values, 100.0)
    n = len(values)
    if lo_pct and hi_pct:
        start = math.floor(n * lo_n / 100.0)
        end = math.ceil(n * hi_n / 100.0)
        return values[start:end]
    low = percentile(values, lo_n) if lo_pct else lo_n
    high = percentile(values, hi_n) if hi_pct else hi_n
    return [v for v in values if low < v <= high] if lo else [v for v in values if v <= high]


def extended(name: str, values: list[float]) -> float | None:
    """An extended statistic of sorted values."""
    if name.upper() == "IQM":
        name = "tm(25%:75%)"
    match = _EXTENDED.match(name)
    if match is None:
        raise ValueError(name)
    kind, single = match["kind"], match["single"]
    if kind == "p":
        if single is None:
            raise ValueError(name)
        return percentile(values, float(single))
    lo: str | None
    hi: str | None
    if single is not None:
        lo, hi = None, f"{single}%"
    else:
        lo, hi = match["lo"] or None, match["hi"] or None
    if kind == "wm":
        low = percentile(values, _bound(lo, values, 0.0)[0]) if lo else values[0]
        high = percentile(values, _bound(hi, values, 100.0)[0]) if hi else values[-1]
        clipped = [min(max(v, low), high) for v in values]
        return sum(clipped) / len(clipped)
    if kind == "pr":
        low = float(lo) if lo else -math.inf
        high = float(hi.rstrip("%")) if hi else math.inf
        inside = [v for v in values if low < v <= high]
        return 100.0 * len(inside) / len(values)
    kept = _within(values, lo, hi)
    if kind == "tc":
        return float(len(kept))
    if not kept:
        return None
    if kind == "ts":
        return sum(kept)
    return sum(kept) / len(kept)


def aggregate(samples: Iterable[Aggregate]) -> Aggregate:
    out = Aggregate()
    for s in samples:
        out.count += s.count
        out.sum += s.sum
        out.minimum = min(out.minimum, s.minimum)
        out.maximum = max(out.maximum, s.maximum)
        out.values.extend(s.values)
        out.complete_values = out.complete_values and s.complete_values
    return out
