"""Condition operators, as IAM's policy grammar defines them.

A context maps lower-cased keys to a list of values (single-valued keys have one). Within a
clause the policy's values are OR'ed; clauses (keys, operators) are AND'ed by the caller.
`...IfExists` is true when the key is absent; `ForAnyValue:`/`ForAllValues:` compare sets;
a negated operator (`StringNotEquals`, `NotIpAddress`, ...) is true when no value matches,
and so also when the key is absent.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from dockyard.core.iampolicy.arns import arn_like
from dockyard.core.iampolicy.document import PolicyError
from dockyard.core.wildcard import compile_wildcard

Context = Mapping[str, Sequence[str]]
Compare = Callable[[str, str], bool]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> datetime | None:
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _numeric(test: Callable[[float, float], bool]) -> Compare:
    def compare(actual: str, wanted: str) -> bool:
        a, w = _number(actual), _number(wanted)
        return a is not None and w is not None and test(a, w)

    return compare


def _dated(test: Callable[[datetime, datetime], bool]) -> Compare:
    def compare(actual: str, wanted: str) -> bool:
        a, w = _date(actual), _date(wanted)
        return a is not None and w is not None and test(a, w)

    return compare


def _ip(actual: str, wanted: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(wanted, strict=False)
    except ValueError:
        return False


def _like(actual: str, wanted: str) -> bool:
    return compile_wildcard(wanted)(actual)


# operator -> (comparison, negated)
OPERATORS: dict[str, tuple[Compare, bool]] = {
    "StringEquals": (lambda a, w: a == w, False),
    "StringNotEquals": (lambda a, w: a == w, True),
    "StringEqualsIgnoreCase": (lambda a, w: a.lower() == w.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda a, w: a.lower() == w.lower(), True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "NumericEquals": (_numeric(lambda a, w: a == w), False),
    "NumericNotEquals": (_numeric(lambda a, w: a == w), True),
    "NumericLessThan": (_numeric(lambda a, w: a < w), False),
    "NumericLessThanEquals": (_numeric(lambda a, w: a <= w), False),
    "NumericGreaterThan": (_numeric(lambda a, w: a > w), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, w: a >= w), False),
    "DateEquals": (_dated(lambda a, w: a == w), False),
    "DateNotEquals": (_dated(lambda a, w: a == w), True),
    "DateLessThan": (_dated(lambda a, w: a < w), False),
    "DateLessThanEquals": (_dated(lambda a, w: a <= w), False),
    "DateGreaterThan": (_dated(lambda a, w: a > w), False),
    "DateGreaterThanEquals": (_dated(lambda a, w: a >= w), False),
    "Bool": (lambda a, w: a.lower() == w.lower(), False),
    "BinaryEquals": (lambda a, w: a == w, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (arn_like, False),
    "ArnLike": (arn_like, False),
    "ArnNotEquals": (arn_like, True),
    "ArnNotLike": (arn_like, True),
}
SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")
# Operators whose values may hold policy variables.
VARIABLE_OPERATORS = ("String", "Arn")


def split_operator(operator: str) -> tuple[str, str, bool]:
    """(set prefix or "", base operator, if-exists) of an operator as written."""
    prefix = ""
    for candidate in SET_PREFIXES:
        if operator.startswith(candidate):
            prefix, operator = candidate, operator[len(candidate) :]
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    if if_exists:
        operator = operator[: -len("IfExists")]
    return prefix, operator, if_exists


def check_operator(operator: str) -> None:
    _, base, if_exists = split_operator(operator)
    if base == "Null" and not if_exists:
        return
    if base not in OPERATORS:
        raise PolicyError(f"Invalid Condition type : {operator}.")


def holds(operator: str, actual: Sequence[str] | None, wanted: Sequence[str]) -> bool:
    """Whether the clause `operator` with policy values `wanted` holds for the context values
    `actual` (None: the key is not in the request context)."""
    prefix, base, if_exists = split_operator(operator)
    if base == "Null":
        absent = actual is None or len(actual) == 0
        return any((w.lower() == "true") == absent for w in wanted)
    compare, negated = OPERATORS[base]
    if prefix == "ForAllValues:":
        if not actual:
            return True
        if negated:
            return all(not any(compare(a, w) for w in wanted) for a in actual)
        return all(any(compare(a, w) for w in wanted) for a in actual)
    if prefix == "ForAnyValue:":
        if not actual:
            return False
        if negated:
            return any(not any(compare(a, w) for w in wanted) for a in actual)
        return any(compare(a, w) for a in actual for w in wanted)
    if actual is None or len(actual) == 0:
        return if_exists or negated
    matched = any(compare(a, w) for a in actual for w in wanted)
    return not matched if negated else matched
