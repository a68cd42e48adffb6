"""AllowedPattern on RE2: values are checked in linear time; what RE2 cannot run is refused
with InvalidAllowedPatternException naming the field."""

from __future__ import annotations

import pytest

from dockyard.services.ssm import validation
from dockyard.services.ssm.errors import (
    InvalidAllowedPatternException,
    ParameterPatternMismatchException,
    ValidationException,
)


def test_a_matching_value_passes_and_a_string_list_is_checked_item_by_item() -> None:
    assert validation.value("abc", "String", "^[a-z]+$") == "abc"
    assert validation.value("ab,cd", "StringList", "^[a-z]{2}$") == "ab,cd"
    with pytest.raises(ParameterPatternMismatchException):
        validation.value("ab,cde", "StringList", "^[a-z]{2}$")


def test_the_pattern_must_match_the_whole_value() -> None:
    with pytest.raises(ParameterPatternMismatchException):
        validation.value("abc1", "String", "[a-z]+")


def test_nested_alternation_on_a_long_value_is_refused_at_once() -> None:
    with pytest.raises(ParameterPatternMismatchException):
        validation.value("a" * 4000 + "b", "String", "^(a|a)*$")


@pytest.mark.parametrize("pattern", [r"^(a+)\1$", r"(?<=x)y", r"^(?!admin).*$"])
def test_a_pattern_re2_cannot_run_is_refused_naming_the_field(pattern: str) -> None:
    with pytest.raises(InvalidAllowedPatternException, match="AllowedPattern"):
        validation.value("aa", "String", pattern)


def test_a_pattern_over_1024_characters_is_refused() -> None:
    with pytest.raises(ValidationException, match="AllowedPattern"):
        validation.value("a", "String", "a?" * 513)
