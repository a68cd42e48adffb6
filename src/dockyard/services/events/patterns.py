"""EventBridge event patterns: validation and matching (pure).

A pattern is a JSON object whose leaves are arrays of matchers: literal values (string,
number, true/false, null) and filter objects: `prefix`, `suffix`, `equals-ignore-case`,
`anything-but` (values, prefix, suffix, equals-ignore-case, wildcard), `numeric`, `exists`,
`cidr`, `wildcard`. `$or` takes a list of sub-patterns. An event field that is an array
matches when any element does; a missing field matches only `{"exists": false}`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from dockyard.core.wildcard import compile_wildcard

MISSING = object()
NUMERIC_OPS = ("<", "<=", "=", ">", ">=")
MAX_NUMBER = 5e9


class PatternError(ValueError):
    """An invalid pattern; the message says what is wrong, as EventBridge does."""


# -- validation -----------------------------------------------------------------------


def validate(pattern: Any, path: str = "") -> None:
    if not isinstance(pattern, dict):
        raise PatternError(
            f"Event pattern is not valid. Reason: {path or 'pattern'} must be an object"
        )
    if not pattern and not path:
        raise PatternError("Event pattern is not valid. Reason: Empty objects are not allowed")
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError(f"Event pattern is not valid. Reason: $or at {where} needs an "
                                   "array of at least 2 objects")  # fmt: skip
            for sub in value:
                validate(sub, where)
        elif isinstance(value, dict):
            if not value:
                raise PatternError(f"Event pattern is not valid. Reason: Empty objects are not "
                                   f"allowed ({where})")  # fmt: skip
            validate(value, where)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"Event pattern is not valid. Reason: Empty arrays are not "
                                   f"allowed ({where})")  # fmt: skip
            for matcher in value:
                _validate_matcher(matcher, where)
        else:
            raise PatternError(
                f'Event pattern is not valid. Reason: "{key}" must be an object or an array'
            )


def _validate_matcher(m: Any, where: str) -> None:
    if m is None or isinstance(m, (str, bool, int, float)):
        return
    if isinstance(m, list):
        raise PatternError(f"Event pattern is not valid. Reason: nested arrays at {where}")
    if not isinstance(m, dict) or len(m) != 1:
        raise PatternError(f"Event pattern is not valid. Reason: a filter at {where} must be an "
                           "object with exactly one key")  # fmt: skip
    ((kind, arg),) = m.items()
    if kind in ("prefix", "suffix"):
        if (
            isinstance(arg, dict)
            and set(arg) == {"equals-ignore-case"}
            and isinstance(arg["equals-ignore-case"], str)
        ):
            return
        if not isinstance(arg, str):
            raise PatternError(f"Event pattern is not valid. Reason: {kind} match pattern must "
                               "be a string")  # fmt: skip
    elif kind == "equals-ignore-case":
        if not isinstance(arg, str):
            raise PatternError("Event pattern is not valid. Reason: equals-ignore-case match "
                               "pattern must be a string")  # fmt: skip
    elif kind == "wildcard":
        if not isinstance(arg, str) or "**" in arg:
            raise PatternError("Event pattern is not valid. Reason: wildcard must be a string "
                               "without consecutive '*'")  # fmt: skip
    elif kind == "exists":
        if not isinstance(arg, bool):
            raise PatternError("Event pattern is not valid. Reason: exists match pattern must "
                               "be either true or false.")  # fmt: skip
    elif kind == "cidr":
        try:
            ipaddress.ip_network(str(arg), strict=False)
        except ValueError as exc:
            raise PatternError(f"Event pattern is not valid. Reason: invalid cidr {arg}") from exc
    elif kind == "numeric":
        _validate_numeric(arg)
    elif kind == "anything-but":
        if isinstance(arg, list):
            if not arg or not all(isinstance(x, (str, int, float)) and not isinstance(x, bool)
                                  for x in arg):  # fmt: skip
                raise PatternError("Event pattern is not valid. Reason: anything-but list must "
                                   "hold strings or numbers")  # fmt: skip
        elif isinstance(arg, dict):
            if len(arg) != 1 or next(iter(arg)) not in (
                "prefix",
                "suffix",
                "equals-ignore-case",
                "wildcard",
            ):
                raise PatternError("Event pattern is not valid. Reason: Unsupported anything-but "
                                   "pattern")  # fmt: skip
            ((inner, value),) = arg.items()
            ok = isinstance(value, str) or (
                inner in ("equals-ignore-case", "wildcard") and isinstance(value, list)
                and all(isinstance(v, str) for v in value)
            )  # fmt: skip
            if not ok:
                raise PatternError(f"Event pattern is not valid. Reason: anything-but {inner} "
                                   "must be a string")  # fmt: skip
        elif arg is None or isinstance(arg, bool):
            raise PatternError("Event pattern is not valid. Reason: anything-but must be a "
                               "string, number, array or object")  # fmt: skip
    else:
        raise PatternError(f"Event pattern is not valid. Reason: Unrecognized match type {kind}")


def _validate_numeric(arg: Any) -> None:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise PatternError("Event pattern is not valid. Reason: numeric takes one or two "
                           "comparisons")  # fmt: skip
    for i in range(0, len(arg), 2):
        op, value = arg[i], arg[i + 1]
        if op not in NUMERIC_OPS:
            raise PatternError(f"Event pattern is not valid. Reason: Unrecognized numeric "
                               f"range operator: {op}")  # fmt: skip
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or abs(value) > MAX_NUMBER
        ):
            raise PatternError("Event pattern is not valid. Reason: Value of numeric must be a "
                               "number between -5.0E9 and 5.0E9")  # fmt: skip
    if len(arg) == 4 and ("=" in (arg[0], arg[2]) or arg[0][0] == arg[2][0]):
        raise PatternError("Event pattern is not valid. Reason: Bad numeric range")


# -- matching -------------------------------------------------------------------------


def matches(pattern: dict[str, Any], event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    for key, expected in pattern.items():
        if key == "$or":
            if not any(matches(sub, event) for sub in expected):
                return False
            continue
        actual = event.get(key, MISSING)
        if isinstance(expected, dict):
            candidates = actual if isinstance(actual, list) else [actual]
            if not any(matches(expected, c) for c in candidates):
                return False
        elif not _field_matches(expected, actual):
            return False
    return True


def _field_matches(matchers: list[Any], actual: Any) -> bool:
    if actual is MISSING:
        return any(isinstance(m, dict) and m.get("exists") is False for m in matchers)
    values = actual if isinstance(actual, list) else [actual]
    if isinstance(actual, list) and not actual:
        values = []
    for m in matchers:
        if isinstance(m, dict) and "exists" in m:
            if m["exists"] is True:
                return True
            continue
        if isinstance(m, dict) and "anything-but" in m:
            # Every value must differ (for arrays, EventBridge checks each element).
            if values and all(_anything_but(m["anything-but"], v) for v in values):
                return True
            continue
        if any(_one(m, v) for v in values):
            return True
    return False


def _same(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, (int, float)) and isinstance(value, (int, float)):
        return float(expected) == float(value)
    if isinstance(expected, str) and isinstance(value, str):
        return str(expected) == str(value)
    return False


def _wildcard(pattern: str, value: str) -> bool:
    """Linear in the value (`core.wildcard`), whatever the pattern; `?` is not special."""
    return compile_wildcard(pattern, single=False)(value)


def _one(m: Any, value: Any) -> bool:
    if not isinstance(m, dict):
        return _same(m, value)
    ((kind, arg),) = m.items()
    if kind in ("prefix", "suffix"):
        if not isinstance(value, str):
            return False
        if isinstance(arg, dict):
            needle, hay = arg["equals-ignore-case"].lower(), value.lower()
        else:
            needle, hay = arg, value
        return hay.startswith(needle) if kind == "prefix" else hay.endswith(needle)
    if kind == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(arg).lower()
    if kind == "wildcard":
        return isinstance(value, str) and _wildcard(arg, value)
    if kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return all(_compare(arg[i], float(value), float(arg[i + 1])) for i in range(0, len(arg), 2))
    if kind == "cidr":
        try:
            return ipaddress.ip_address(str(value)) in ipaddress.ip_network(str(arg), strict=False)
        except ValueError:
            return False
    return False


def _compare(op: str, value: float, bound: float) -> bool:
    return {
        "<": value < bound, "<=": value <= bound, "=": value == bound,
        ">": value > bound, ">=": value >= bound,
    }[op]  # fmt: skip


def _anything_but(arg: Any, value: Any) -> bool:
    """True when `value` is not excluded by the anything-but argument."""
    if isinstance(arg, dict):
        ((inner, needle),) = arg.items()
        if not isinstance(value, str):
            return True
        if inner == "prefix":
            return not value.startswith(needle)
        if inner == "suffix":
            return not value.endswith(needle)
        needles = needle if isinstance(needle, list) else [needle]
        if inner == "equals-ignore-case":
            return value.lower() not in {n.lower() for n in needles}
        return not any(_wildcard(n, value) for n in needles)
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_same(x, value) for x in excluded)


__all__ = ["PatternError", "matches", "validate"]
