"""Glob patterns from users (`*`: any run of characters, `?`: exactly one), matched in time
linear in the value, whatever the pattern: load balancer rule conditions and EventBridge
`wildcard` filters. A pattern is compiled once into a matcher; no backtracking regex is built
from it (`/*/*/*/*.png` against a long path is as cheap as `/api/*`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import re2

Matcher = Callable[[str], bool]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.dot_nl = True


def _stars(parts: list[str]) -> Matcher:
    """Literal parts separated by `*`: the first is a prefix, the last a suffix, the others are
    found left to right (leftmost is always right for a fixed-length part)."""
    if len(parts) == 1:
        (only,) = parts
        return lambda value: value == only
    first, last, middle = parts[0], parts[-1], [p for p in parts[1:-1] if p]
    least = len(first) + len(last) + sum(len(p) for p in middle)
    if not middle:
        if not first:
            return lambda value: value.endswith(last)
        if not last:
            return lambda value: value.startswith(first)
        return lambda value: (
            len(value) >= least and value.startswith(first) and value.endswith(last)
        )

    def match(value: str) -> bool:
        if len(value) < least or not value.startswith(first) or not value.endswith(last):
            return False
        pos, end = len(first), len(value) - len(last)
        for part in middle:
            found = value.find(part, pos, end)
            if found < 0:
                return False
            pos = found + len(part)
        return True

    return match


def _with_single(pattern: str) -> Matcher:
    """`?` too: RE2 (automata, linear in the value) on `.` and `.*`; nothing else is special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re2.escape(c) for c in pattern)
    fullmatch = re2.compile(body, _OPTIONS).fullmatch
    return lambda value: fullmatch(value) is not None


@lru_cache(maxsize=4096)
def compile_wildcard(pattern: str, ignore_case: bool = False, single: bool = True) -> Matcher:
    """A matcher for the whole value. `single=False`: `?` is an ordinary character (EventBridge
    knows only `*`). With `ignore_case` the value is compared lower-cased."""
    if ignore_case:
        pattern = pattern.lower()
    test = _with_single(pattern) if single and "?" in pattern else _stars(pattern.split("*"))
    if ignore_case:
        return lambda value: test(value.lower())
    return test
