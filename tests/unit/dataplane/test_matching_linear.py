"""Rule conditions whose wildcards backtrack in a regex engine match long request values at
once (`/*/*/*/*.png` against an 800-character path took 8.5 s before)."""

from __future__ import annotations

import time

import pytest

from dockyard.dataplane.config import ConditionConfig
from dockyard.dataplane.matching import RequestView, compile_condition


def view(path: str = "/", host: str = "h", query: str = "",
         headers: dict[str, str] | None = None) -> RequestView:  # fmt: skip
    return RequestView("GET", path, query, host, headers or {}, "10.0.0.1")


@pytest.mark.parametrize(
    ("condition", "request_view"),
    [
        (ConditionConfig("path-pattern", ("/*/*/*/*.png",)), view(path="/" * 8000)),
        (ConditionConfig("host-header", ("*.*.*.*.example.com",)), view(host="a." * 4000)),
        (ConditionConfig("http-header", ("*a*a*a*a*b",), "X-P"), view(headers={"x-p": "a" * 8000})),
        (
            ConditionConfig("query-string", ("*a*a*a*a*b",), query=(("q", "*a*a*a*a*b"),)),
            view(query="q=" + "a" * 8000),
        ),
    ],
)
def test_backtracking_shapes_do_not_match_and_return_at_once(
    condition: ConditionConfig, request_view: RequestView
) -> None:
    predicate = compile_condition(condition)
    start = time.perf_counter()
    assert not predicate(request_view)
    assert time.perf_counter() - start < 1.0  # minutes with a backtracking regex


def test_the_same_shapes_still_match_what_they_should() -> None:
    png = compile_condition(ConditionConfig("path-pattern", ("/*/*/*/*.png",)))
    assert png(view(path="/a/b/c/d.png"))
    assert png(view(path="/a/b/c/d/e/f.png"))
    assert not png(view(path="/a/b/c.png"))
