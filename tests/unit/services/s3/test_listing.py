"""Listing keys: prefixes, delimiters, pages, resume points (pure)."""

from __future__ import annotations

from sortedcontainers import SortedList

from dockyard.services.s3.conditions import Conditions, byte_range, check_read
from dockyard.services.s3.errors import InvalidRange, NotModified, PreconditionFailed
from dockyard.services.s3.listing import list_keys

KEYS = SortedList(["a/1", "a/2", "a/b/3", "b", "c/1", "c/2", "d"])


def _all(**kw: object) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    prefixes: list[str] = []
    after = ""
    while True:
        page = list_keys(KEYS, lambda k: True, after=after, **kw)  # type: ignore[arg-type]
        keys += page.keys
        prefixes += page.prefixes
        if not page.truncated:
            return keys, prefixes
        assert page.last is not None
        after = page.last


def test_delimiter_groups_common_prefixes() -> None:
    page = list_keys(KEYS, lambda k: True, delimiter="/")
    assert page.keys == ["b", "d"] and page.prefixes == ["a/", "c/"]
    page = list_keys(KEYS, lambda k: True, prefix="a/", delimiter="/")
    assert page.keys == ["a/1", "a/2"] and page.prefixes == ["a/b/"]


def test_pages_of_any_size_see_everything_once() -> None:
    for size in range(1, 8):
        assert _all(max_keys=size) == (list(KEYS), [])
        assert _all(max_keys=size, delimiter="/") == (["b", "d"], ["a/", "c/"])


def test_hidden_keys_and_start_after() -> None:
    page = list_keys(KEYS, lambda k: k != "b", after="a/b/3")
    assert page.keys == ["c/1", "c/2", "d"]


def test_ranges() -> None:
    assert byte_range("bytes=0-9", 100) == (0, 9)
    assert byte_range("bytes=90-", 100) == (90, 99)
    assert byte_range("bytes=-10", 100) == (90, 99)
    assert byte_range("bytes=95-200", 100) == (95, 99)
    assert byte_range("bytes=9-1", 100) is None
    assert byte_range("items=0-1", 100) is None
    for bad in ("bytes=100-", "bytes=-0"):
        try:
            byte_range(bad, 100)
        except InvalidRange:
            continue
        raise AssertionError(bad)


def test_condition_order() -> None:
    etag = '"abc"'
    check_read(Conditions(if_match='"abc"'), etag, 0)
    for cond, error in [
        (Conditions(if_match='"x"'), PreconditionFailed),
        (Conditions(if_none_match="*"), NotModified),
        (Conditions(if_match='"x"', if_none_match='"abc"'), PreconditionFailed),
    ]:
        try:
            check_read(cond, etag, 0)
        except error:
            continue
        raise AssertionError(cond)
