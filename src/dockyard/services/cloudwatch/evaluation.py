"""Alarm evaluation, as CloudWatch documents it: a pure function of the datapoints.

`evaluate` receives the datapoints of the evaluation range (oldest first; None for a period
with no data) and the alarm's configuration, and returns the state the alarm should be in:

- With no missing datapoints the most recent `evaluation_periods` are evaluated.
- With some missing but at least `evaluation_periods` real datapoints in the range, the most
  recent real datapoints are evaluated; how missing data is treated does not matter.
- With fewer real datapoints, missing ones are filled as `treat_missing` says, as few times as
  needed to make up `evaluation_periods`; `missing` and `ignore` fill nothing and evaluate the
  real datapoints.
- With no real datapoint at all: `missing` -> INSUFFICIENT_DATA, `ignore` -> unchanged,
  `breaching` -> ALARM, `notBreaching` -> OK.

The alarm goes to ALARM when at least `datapoints_to_alarm` of the evaluated datapoints breach,
and to OK otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from dockyard.services.cloudwatch.model import AlarmState, Comparison, TreatMissingData

EXTRA_RANGE = 5  # how many periods before the evaluation periods the range reaches back

_WORDS = {
    Comparison.GE: "greater than or equal to",
    Comparison.GT: "greater than",
    Comparison.LT: "less than",
    Comparison.LE: "less than or equal to",
}


@dataclass(frozen=True, slots=True)
class Rule:
    threshold: float
    comparison: str
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing: str = TreatMissingData.MISSING


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str
    reason: str
    evaluated: tuple[tuple[float, float], ...] = ()  # (timestamp, value) of real datapoints
    breaching: int = 0
    recent: float | None = None  # the most recent real datapoint's value


def range_length(evaluation_periods: int) -> int:
    return evaluation_periods + EXTRA_RANGE


def breaches(value: float, threshold: float, comparison: str) -> bool:
    if comparison == Comparison.GE:
        return value >= threshold
    if comparison == Comparison.GT:
        return value > threshold
    if comparison == Comparison.LT:
        return value < threshold
    if comparison == Comparison.LE:
        return value <= threshold
    raise ValueError(f"unsupported comparison operator {comparison}")


def _stamp(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def evaluate(points: Sequence[tuple[float, float | None]], rule: Rule, current: str) -> Outcome:
    """The state `points` (timestamp, value or None; oldest first) put the alarm in."""
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    real = [(t, v) for t, v in points if v is not None]
    if not real:
        treat = rule.treat_missing
        if treat == TreatMissingData.IGNORE:
            return Outcome(current, "no datapoints: the current state is kept (ignore)")
        if treat == TreatMissingData.BREACHING:
            state = AlarmState.ALARM if m <= n else AlarmState.OK
            return Outcome(
                state,
                f"Threshold Crossed: no datapoints were received for {n} periods and "
                f"{n} missing datapoints were treated as [Breaching].",
                breaching=n,
            )
        if treat == TreatMissingData.NOT_BREACHING:
            return Outcome(
                AlarmState.OK,
                f"Threshold Crossed: no datapoints were received for {n} periods and "
                f"{n} missing datapoints were treated as [NonBreaching].",
            )
        return Outcome(
            AlarmState.INSUFFICIENT_DATA,
            f"Insufficient Data: {n} datapoint{'s' if n > 1 else ''} were unknown.",
        )
    if len(real) >= n:
        evaluated = real[-n:]
        filled = 0
        filled_breaching = False
    else:
        evaluated = real
        filled = 0
        filled_breaching = False
        if rule.treat_missing in (TreatMissingData.BREACHING, TreatMissingData.NOT_BREACHING):
            filled = n - len(real)
            filled_breaching = rule.treat_missing == TreatMissingData.BREACHING
    breaching = sum(1 for _, v in evaluated if breaches(v, rule.threshold, rule.comparison))
    if filled_breaching:
        breaching += filled
    state = AlarmState.ALARM if breaching >= m else AlarmState.OK
    total = len(evaluated) + filled
    listed = ", ".join(f"{v} ({_stamp(t)})" for t, v in reversed(evaluated))
    words = _WORDS.get(Comparison(rule.comparison), rule.comparison)
    if state == AlarmState.ALARM:
        verb = "were" if breaching > 1 else "was"
        reason = (
            f"Threshold Crossed: {breaching} out of the last {total} datapoints [{listed}] "
            f"{verb} {words} the threshold ({rule.threshold}) "
            f"(minimum {m} datapoint{'s' if m > 1 else ''} for OK -> ALARM transition)."
        )
    else:
        reason = (
            f"Threshold Crossed: {total - breaching} out of the last {total} datapoints "
            f"[{listed}] were not {words} the threshold ({rule.threshold}) "
            f"(minimum 1 datapoint for ALARM -> OK transition)."
        )
    if filled:
        kind = "Breaching" if filled_breaching else "NonBreaching"
        reason = reason[:-1] + f"; {filled} missing datapoints were treated as [{kind}]."
    return Outcome(state, reason, tuple(evaluated), breaching, real[-1][1])
