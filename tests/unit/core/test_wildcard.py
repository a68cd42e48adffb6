"""Wildcard matching: the same answers as a plain recursive definition of `*` and `?`, and
time linear in the value whatever the pattern."""

from __future__ import annotations

import time
from functools import cache

from hypothesis import given
from hypothesis import strategies as st

from dockyard.core.wildcard import compile_wildcard


def reference(pattern: str, value: str, single: bool = True) -> bool:
    """The definition, by dynamic programming over (pattern, value) positions."""

    @cache
    def at(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(value)
        c = pattern[i]
        if c == "*":
            return at(i + 1, j) or (j < len(value) and at(i, j + 1))
        if j == len(value):
            return False
        if (c == "?" and single) or c == value[j]:
            return at(i + 1, j + 1)
        return False

    return at(0, 0)


PATTERNS = st.text(alphabet="ab*?.", max_size=10)
VALUES = st.text(alphabet="ab?.\n", max_size=14)


@given(PATTERNS, VALUES)
def test_matches_as_the_definition(pattern: str, value: str) -> None:
    assert compile_wildcard(pattern)(value) == reference(pattern, value)


@given(PATTERNS, VALUES)
def test_question_mark_is_literal_when_single_is_off(pattern: str, value: str) -> None:
    assert compile_wildcard(pattern, single=False)(value) == reference(pattern, value, False)


def test_ignore_case_compares_lower_cased() -> None:
    match = compile_wildcard("*.EXAMPLE.com", ignore_case=True)
    assert match("API.example.COM")
    assert not match("api.example.org")
    assert not compile_wildcard("/API/*")("/api/x")


def test_stars_and_question_marks_match_any_character_including_newlines() -> None:
    assert compile_wildcard("a*b")("a\nb")
    assert compile_wildcard("a?b")("a\nb")


def test_special_regex_characters_are_literal() -> None:
    assert compile_wildcard("/a.b(c)+[d]$?")("/a.b(c)+[d]$x")
    assert not compile_wildcard("/a.b")("/axb")


def test_patterns_that_backtrack_in_a_regex_engine_stay_fast() -> None:
    cases = [
        ("/*/*/*/*.png", "/" * 5000),
        ("*a*a*a*a*a*a*b", "a" * 5000),
        ("?*?*?*?*?*x", "a" * 5000),
    ]
    for pattern, value in cases:
        match = compile_wildcard(pattern)
        start = time.perf_counter()
        assert not match(value)
        # Unit-level sanity, far from the bound: a backtracking engine takes minutes here.
        assert time.perf_counter() - start < 1.0, pattern
