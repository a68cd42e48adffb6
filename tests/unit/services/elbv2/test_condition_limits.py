"""Rule condition values within AWS's limits: 128 characters a value, 5 wildcards a rule."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.services.elbv2.actions import parse_conditions
from dockyard.services.elbv2.errors import ValidationError


def path(*values: str) -> dict[str, Any]:
    return {"Field": "path-pattern", "PathPatternConfig": {"Values": list(values)}}


def header(*values: str) -> dict[str, Any]:
    return {"Field": "http-header",
            "HttpHeaderConfig": {"HttpHeaderName": "X-A", "Values": list(values)}}  # fmt: skip


def query(key: str | None, value: str) -> dict[str, Any]:
    pair = {"Value": value} if key is None else {"Key": key, "Value": value}
    return {"Field": "query-string", "QueryStringConfig": {"Values": [pair]}}


def test_five_wildcards_in_a_rule_are_accepted() -> None:
    parse_conditions([path("/*/*/*/*.png"), header("*a")])


@pytest.mark.parametrize(
    "conditions",
    [
        [path("/*/*/*/*/*/*")],
        [path("/*/*/*"), header("*a*b*")],
        [path("/?/?/?"), query("k*", "v*?")],
    ],
)
def test_more_than_five_wildcards_in_a_rule_are_refused(conditions: list[Any]) -> None:
    with pytest.raises(ValidationError, match="wildcards"):
        parse_conditions(conditions)


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        (header("a" * 129), "HTTP header value"),
        (query(None, "a" * 129), "Query string value"),
        (query("k" * 129, "v"), "Query string key"),
        (path("/" + "a" * 128), "Path pattern"),
    ],
)
def test_values_over_128_characters_are_refused_naming_them(
    condition: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        parse_conditions([condition])


def test_values_of_128_characters_are_accepted() -> None:
    parse_conditions([header("a" * 128), query("k" * 128, "v" * 128)])
