"""Filter policies: what SNS's documentation says matches, as a table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.services.sns import filterpolicy
from dockyard.services.sns.filterpolicy import ATTRIBUTES, BODY, FilterPolicyError

S, N, A = "String", "Number", "String.Array"

ATTRIBUTE_CASES: list[tuple[dict[str, Any], dict[str, tuple[str, str]], bool]] = [
    ({"store": ["example_corp"]}, {"store": (S, "example_corp")}, True),
    ({"store": ["example_corp"]}, {"store": (S, "Example_Corp")}, False),  # case-sensitive
    ({"store": ["a", "b"]}, {"store": (S, "b")}, True),  # OR within a key
    ({"store": ["a"], "kind": ["x"]}, {"store": (S, "a")}, False),  # AND across keys
    ({"store": ["a"], "kind": ["x"]}, {"store": (S, "a"), "kind": (S, "x")}, True),
    ({"kind": [{"prefix": "order-"}]}, {"kind": (S, "order-placed")}, True),
    ({"kind": [{"prefix": "order-"}]}, {"kind": (S, "refund")}, False),
    ({"kind": [{"suffix": ".png"}]}, {"kind": (S, "cat.png")}, True),
    ({"kind": [{"equals-ignore-case": "RED"}]}, {"kind": (S, "red")}, True),
    ({"kind": [{"anything-but": ["a", "b"]}]}, {"kind": (S, "c")}, True),
    ({"kind": [{"anything-but": ["a", "b"]}]}, {"kind": (S, "a")}, False),
    ({"kind": [{"anything-but": "a"}]}, {}, False),  # absent: anything-but does not match
    ({"kind": [{"anything-but": {"prefix": "test"}}]}, {"kind": (S, "testing")}, False),
    ({"kind": [{"anything-but": {"prefix": "test"}}]}, {"kind": (S, "prod")}, True),
    ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"price": (N, "100")}, True),
    ({"price": [{"numeric": [">", 0, "<=", 150]}]}, {"price": (N, "150.5")}, False),
    ({"price": [{"numeric": ["=", 5]}]}, {"price": (N, "5.0")}, True),
    ({"price": [100]}, {"price": (N, "100")}, True),
    ({"price": [100]}, {"price": (S, "100")}, False),  # a string is not a number
    ({"price": [{"numeric": [">", 1]}]}, {"price": (S, "5")}, False),
    ({"kind": [{"exists": True}]}, {"kind": (S, "x")}, True),
    ({"kind": [{"exists": True}]}, {}, False),
    ({"kind": [{"exists": False}]}, {}, True),
    ({"kind": [{"exists": False}]}, {"kind": (S, "x")}, False),
    ({"tags": ["red"]}, {"tags": (A, '["blue", "red"]')}, True),  # any element of an array
    ({"tags": ["red"]}, {"tags": (A, '["blue"]')}, False),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": (S, "10.0.0.7")}, True),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": (S, "10.0.1.7")}, False),
    ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"b": (S, "2")}, True),
    ({"$or": [{"a": ["1"]}, {"b": ["2"]}]}, {"c": (S, "2")}, False),
    ({"kind": ["x"]}, {"kind": ("Binary", "eA==")}, False),
]


@pytest.mark.parametrize(("policy", "attributes", "expected"), ATTRIBUTE_CASES)
def test_message_attribute_policies(
    policy: dict[str, Any], attributes: dict[str, tuple[str, str]], expected: bool
) -> None:
    parsed = filterpolicy.parse(json.dumps(policy), ATTRIBUTES)
    assert filterpolicy.matches(parsed, ATTRIBUTES, attributes, "") is expected


BODY_CASES: list[tuple[dict[str, Any], Any, bool]] = [
    ({"order": {"status": ["paid"]}}, {"order": {"status": "paid"}}, True),
    ({"order": {"status": ["paid"]}}, {"order": {"status": "new"}}, False),
    ({"order": {"status": ["paid"]}}, {"status": "paid"}, False),
    ({"amount": [{"numeric": [">=", 10]}]}, {"amount": 12}, True),
    ({"flag": [True]}, {"flag": True}, True),
    ({"flag": [True]}, {"flag": "true"}, False),
    ({"gone": [None]}, {"gone": None}, True),
    ({"items": ["a"]}, {"items": ["b", "a"]}, True),
    ({"missing": [{"exists": False}]}, {"other": 1}, True),
]


@pytest.mark.parametrize(("policy", "body", "expected"), BODY_CASES)
def test_message_body_policies(policy: dict[str, Any], body: Any, expected: bool) -> None:
    parsed = filterpolicy.parse(json.dumps(policy), BODY)
    assert filterpolicy.matches(parsed, BODY, {}, json.dumps(body)) is expected


def test_a_body_that_is_not_json_matches_no_body_policy() -> None:
    parsed = filterpolicy.parse('{"a": ["b"]}', BODY)
    assert filterpolicy.matches(parsed, BODY, {}, "plain text") is False


@pytest.mark.parametrize(
    ("text", "scope", "reason"),
    [
        ("not json", ATTRIBUTES, "parse"),
        ('{"a": "b"}', ATTRIBUTES, "must be an array"),
        ('{"a": []}', ATTRIBUTES, "Empty"),
        ('{"a": {"b": ["c"]}}', ATTRIBUTES, "nested"),
        ('{"a": [{"wild": "x"}]}', ATTRIBUTES, "Unrecognized match type"),
        ('{"a": [{"numeric": ["<", 10, ">", 1]}]}', ATTRIBUTES, "numeric"),
        ('{"a": [{"numeric": [">", 10, "<", 1]}]}', ATTRIBUTES, "Bottom"),
        ('{"a": [{"numeric": [">", 2000000000]}]}', ATTRIBUTES, "between"),
        ('{"a": [{"exists": "yes"}]}', ATTRIBUTES, "exists"),
        (json.dumps({k: ["x"] for k in "abcdef"}), ATTRIBUTES, "5 keys"),
        (json.dumps({k: list(range(6)) for k in "abc"}), ATTRIBUTES, "complex"),
    ],
)
def test_invalid_policies_say_why(text: str, scope: str, reason: str) -> None:
    with pytest.raises(FilterPolicyError) as err:
        filterpolicy.parse(text, scope)
    assert reason in str(err.value)


def test_body_policies_nest_at_most_five_levels() -> None:
    deep: dict[str, Any] = {"x": ["y"]}
    for _ in range(6):
        deep = {"n": deep}
    with pytest.raises(FilterPolicyError, match="nested at most"):
        filterpolicy.parse(json.dumps(deep), BODY)
