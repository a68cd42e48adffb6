"""User regular expressions on RE2: what it runs, what it refuses, and that nested
quantifiers do not backtrack."""

from __future__ import annotations

import time

import pytest

from dockyard.core.userregex import RegexError, compile_regex


def test_ordinary_patterns_work_as_expected() -> None:
    rx = compile_regex(r"^[a-zA-Z0-9_.-]{1,20}$")
    assert rx.fullmatch("my-param_1.0") is not None
    assert rx.fullmatch("no spaces") is None
    assert compile_regex(r"\d{3}").search("code 404 seen") is not None


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?<=a)b", r"(?=a)", r"a(?!b)", "(", "a{2,1}"])
def test_patterns_re2_cannot_run_raise_regex_error_with_a_reason(pattern: str) -> None:
    with pytest.raises(RegexError) as caught:
        compile_regex(pattern)
    assert str(caught.value)


def test_nested_quantifiers_do_not_backtrack() -> None:
    rx = compile_regex("^(a|a)*$")
    start = time.perf_counter()
    assert rx.fullmatch("a" * 10_000 + "b") is None
    assert compile_regex("(a+)+$").search("a" * 10_000 + "b") is None
    assert time.perf_counter() - start < 1.0  # a backtracking engine: longer than the universe
