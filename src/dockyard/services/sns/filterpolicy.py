"""Subscription filter policies, as SNS documents them: a JSON object whose keys name message
attributes (FilterPolicyScope MessageAttributes) or paths into a JSON message body
(MessageBody), each with an array of conditions (exact strings and numbers, `prefix`,
`suffix`, `equals-ignore-case`, `anything-but`, `numeric` ranges, `exists`, `cidr`), and `$or`.
Keys are ANDed, conditions of a key ORed.

`parse(text, scope)` validates (at most 5 keys, 150 combinations, 256 KiB, numbers within
±1e9) and raises `FilterPolicyError` with SNS's reason; `matches(policy, scope, attributes,
body)` decides a message in time linear in the policy and the message.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Mapping
from typing import Any

MAX_SIZE = 256 * 1024
MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_DEPTH = 5  # nesting of a MessageBody policy
MAX_NUMBER = 1e9
OPERATORS = {
    "prefix",
    "suffix",
    "equals-ignore-case",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
}
COMPARISONS = {"=", "<", "<=", ">", ">="}
ATTRIBUTES = "MessageAttributes"
BODY = "MessageBody"

Policy = dict[str, Any]
_MISSING = object()


class FilterPolicyError(ValueError):
    pass


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FilterPolicyError(f"Value of {where} must be numeric")
    if not -MAX_NUMBER <= value <= MAX_NUMBER or not math.isfinite(value):
        raise FilterPolicyError(f"Numeric value must be between -1.0E9 and 1.0E9 ({where})")
    return float(value)


def _check_numeric(spec: Any) -> None:
    if not isinstance(spec, list) or len(spec) not in (2, 4):
        raise FilterPolicyError("Value of numeric must be an array of 2 or 4 elements")
    ops = spec[0::2]
    for op, value in zip(ops, spec[1::2], strict=True):
        if op not in COMPARISONS:
            raise FilterPolicyError(f"Unrecognized numeric range operator: {op}")
        _number(value, "numeric")
    if len(spec) == 4:
        if ops[0] not in (">", ">=") or ops[1] not in ("<", "<="):
            raise FilterPolicyError("Too many elements in numeric expression")
        if spec[1] >= spec[3]:
            raise FilterPolicyError("Bottom must be less than top")


def _check_condition(condition: Any) -> None:
    if condition is None or isinstance(condition, str | bool):
        return
    if isinstance(condition, int | float):
        _number(condition, "a filter value")
        return
    if not isinstance(condition, dict) or len(condition) != 1:
        raise FilterPolicyError("Match value must be String, number, true, false, or null")
    ((op, value),) = condition.items()
    if op not in OPERATORS:
        raise FilterPolicyError(f"Unrecognized match type {op}")
    if op in ("prefix", "suffix", "equals-ignore-case") and not isinstance(value, str):
        raise FilterPolicyError(f"{op} match pattern must be a string")
    if op == "exists" and not isinstance(value, bool):
        raise FilterPolicyError("exists match pattern must be either true or false.")
    if op == "numeric":
        _check_numeric(value)
    if op == "cidr":
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            raise FilterPolicyError(f"Malformed CIDR, one '/' required: {value}") from None
    if op == "anything-but":
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in ("prefix", "suffix"):
                raise FilterPolicyError("Unsupported anything-but pattern")
            if not isinstance(next(iter(value.values())), str):
                raise FilterPolicyError("anything-but prefix/suffix must be a string")
        elif isinstance(value, list):
            if not value:
                raise FilterPolicyError("Empty arrays are not allowed")
            for item in value:
                if not isinstance(item, str | int | float) or isinstance(item, bool):
                    raise FilterPolicyError("anything-but list must hold strings or numbers")
        elif not isinstance(value, str | int | float) or isinstance(value, bool):
            raise FilterPolicyError("anything-but value must be a string, number or list")


def _walk(policy: Any, scope: str, depth: int) -> tuple[int, int]:
    """Validate one (sub-)policy; (its keys, its combinations)."""
    if not isinstance(policy, dict) or not policy:
        raise FilterPolicyError("Filter policy must be a non-empty JSON object")
    if depth > MAX_DEPTH:
        raise FilterPolicyError(f"Filter policy can be nested at most {MAX_DEPTH} levels")
    keys, combinations = 0, 1
    for key, value in policy.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise FilterPolicyError("$or must be an array of at least 2 objects")
            branches = [_walk(branch, scope, depth + 1) for branch in value]
            keys += max(k for k, _ in branches)
            combinations *= sum(c for _, c in branches)
        elif isinstance(value, dict):
            if scope != BODY:
                raise FilterPolicyError(
                    "Filter policy scope MessageAttributes does not support nested filter policy"
                )
            k, c = _walk(value, scope, depth + 1)
            keys += k
            combinations *= c
        elif isinstance(value, list):
            if not value:
                raise FilterPolicyError("Empty arrays are not allowed")
            for condition in value:
                _check_condition(condition)
            keys += 1
            combinations *= len(value)
        else:
            raise FilterPolicyError(f"Match value of {key} must be an array")
    return keys, combinations


def parse(text: str, scope: str = ATTRIBUTES) -> Policy:
    if scope not in (ATTRIBUTES, BODY):
        raise FilterPolicyError(f"Unknown FilterPolicyScope {scope}")
    if len(text.encode()) > MAX_SIZE:
        raise FilterPolicyError("Filter policy is too large (at most 256 KB)")
    try:
        policy = json.loads(text)
    except (ValueError, RecursionError):
        raise FilterPolicyError("failed to parse JSON.") from None
    keys, combinations = _walk(policy, scope, 1)
    if keys > MAX_KEYS:
        raise FilterPolicyError(f"Filter policy can not have more than {MAX_KEYS} keys")
    if combinations > MAX_COMBINATIONS:
        raise FilterPolicyError("Filter policy is too complex")
    return dict(policy)


# -- matching ---------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numeric(spec: list[Any], value: float) -> bool:
    for op, bound in zip(spec[0::2], spec[1::2], strict=True):
        ok = {
            "=": value == bound,
            "<": value < bound,
            "<=": value <= bound,
            ">": value > bound,
            ">=": value >= bound,
        }[op]
        if not ok:
            return False
    return True


def _anything_but(spec: Any, value: Any) -> bool:
    if isinstance(spec, dict):
        ((op, pattern),) = spec.items()
        if not isinstance(value, str):
            return False
        return not (value.startswith(pattern) if op == "prefix" else value.endswith(pattern))
    excluded = spec if isinstance(spec, list) else [spec]
    return not any(_equal(item, value) for item in excluded)


def _equal(condition: Any, value: Any) -> bool:
    if _is_number(condition):
        return _is_number(value) and float(condition) == float(value)
    if isinstance(condition, bool) or condition is None:
        return value is condition
    return isinstance(value, str) and value == condition


def _condition(condition: Any, value: Any) -> bool:
    if not isinstance(condition, dict):
        return _equal(condition, value)
    ((op, spec),) = condition.items()
    if op == "exists":
        return bool(spec)
    if op == "numeric":
        return _is_number(value) and _numeric(spec, float(value))
    if op == "anything-but":
        return _anything_but(spec, value)
    if not isinstance(value, str):
        return False
    if op == "prefix":
        return value.startswith(spec)
    if op == "suffix":
        return value.endswith(spec)
    if op == "equals-ignore-case":
        return value.casefold() == str(spec).casefold()
    if op == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(spec, strict=False)
        except ValueError:
            return False
    return False


def _key(conditions: list[Any], present: Any) -> bool:
    if present is _MISSING:
        return any(isinstance(c, dict) and c.get("exists") is False for c in conditions)
    values = present if isinstance(present, list) else [present]
    return any(_condition(c, v) for c in conditions for v in values)


def _attribute_value(attribute: tuple[str, str] | None) -> Any:
    """A message attribute as conditions see it: a string, a number, a list (String.Array)
    or _MISSING; Binary attributes are present but match only `exists`."""
    if attribute is None:
        return _MISSING
    data_type, value = attribute
    base = data_type.split(".", 1)[0]
    if data_type == "String.Array":
        try:
            items = json.loads(value)
        except (ValueError, RecursionError):
            return value
        return items if isinstance(items, list) else value
    if base == "Number":
        try:
            return float(value)
        except ValueError:
            return value
    if base == "Binary":
        return []
    return value


def _match_attributes(policy: Policy, attributes: Mapping[str, tuple[str, str]]) -> bool:
    for key, value in policy.items():
        if key == "$or":
            if not any(_match_attributes(branch, attributes) for branch in value):
                return False
        elif not _key(value, _attribute_value(attributes.get(key))):
            return False
    return True


def _match_body(policy: Policy, body: Any) -> bool:
    for key, value in policy.items():
        if key == "$or":
            if not any(_match_body(branch, body) for branch in value):
                return False
            continue
        present = body.get(key, _MISSING) if isinstance(body, dict) else _MISSING
        if isinstance(value, dict):
            if present is _MISSING or not _match_body(value, present):
                return False
        elif not _key(value, present):
            return False
    return True


def matches(
    policy: Policy | None,
    scope: str,
    attributes: Mapping[str, tuple[str, str]],
    body: str,
) -> bool:
    """Whether a message (its attributes: name -> (DataType, value); its body) passes."""
    if not policy:
        return True
    if scope == BODY:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            return False  # a body that is not JSON matches no body policy
        return _match_body(policy, doc)
    return _match_attributes(policy, attributes)
