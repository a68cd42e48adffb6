"""Listing keys and versions of a bucket: prefixes, delimiters and pages (pure).

Keys are kept sorted (UTF-8 binary order is code point order); a page walks from the
resume point, and a run of keys under one common prefix is skipped with one bisect.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sortedcontainers import SortedList

from dockyard.services.s3.model import ObjectVersion

_AFTER_ALL = "\U0010ffff"


@dataclass(slots=True)
class Page:
    keys: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None  # the last key or common prefix returned


def list_keys(
    keys: SortedList,
    visible: Callable[[str], bool],
    *,
    prefix: str = "",
    delimiter: str = "",
    after: str = "",
    max_keys: int = 1000,
) -> Page:
    """Keys (and common prefixes) after `after`, at most `max_keys` of them together."""
    page = Page()
    if max_keys <= 0:
        return page
    start = max(after, prefix) if after else prefix
    index = keys.bisect_right(start) if after and after >= prefix else keys.bisect_left(start)
    if after.startswith(prefix) and delimiter:
        rest = after[len(prefix) :]
        cut = rest.find(delimiter)
        if cut >= 0 and after == prefix + rest[: cut + len(delimiter)]:
            # resuming after a common prefix: skip every key under it
            index = keys.bisect_left(after + _AFTER_ALL)
    count = len(keys)
    while index < count:
        key: str = keys[index]
        if not key.startswith(prefix):
            break
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if len(page.keys) + len(page.prefixes) >= max_keys:
                    page.truncated = True
                    break
                page.prefixes.append(common)
                page.last = common
                index = keys.bisect_left(common + _AFTER_ALL)
                continue
        if not visible(key):
            index += 1
            continue
        if len(page.keys) + len(page.prefixes) >= max_keys:
            page.truncated = True
            break
        page.keys.append(key)
        page.last = key
        index += 1
    return page


@dataclass(slots=True)
class VersionPage:
    versions: list[ObjectVersion] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    next_key: str | None = None
    next_version: str | None = None


def list_versions(
    keys: SortedList,
    versions_of: Callable[[str], Sequence[ObjectVersion]],
    *,
    prefix: str = "",
    delimiter: str = "",
    key_marker: str = "",
    version_marker: str = "",
    max_keys: int = 1000,
) -> VersionPage:
    page = VersionPage()
    if max_keys <= 0:
        return page
    index = keys.bisect_left(max(prefix, key_marker))
    count = len(keys)
    taken = 0
    while index < count:
        key: str = keys[index]
        if not key.startswith(prefix):
            break
        if delimiter:
            cut = key.find(delimiter, len(prefix))
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if key_marker.startswith(common) or common == key_marker:
                    index = keys.bisect_left(common + _AFTER_ALL)
                    continue
                if taken >= max_keys:
                    page.truncated = True
                    page.next_key = page.prefixes[-1] if page.prefixes else key
                    break
                page.prefixes.append(common)
                taken += 1
                page.next_key = common
                index = keys.bisect_left(common + _AFTER_ALL)
                continue
        history = list(versions_of(key))
        if key == key_marker:
            if not version_marker:
                index += 1
                continue
            ids = [v.version_id for v in history]
            history = history[ids.index(version_marker) + 1 :] if version_marker in ids else []
        for version in history:
            if taken >= max_keys:
                page.truncated = True
                break
            page.versions.append(version)
            taken += 1
            page.next_key, page.next_version = version.key, version.version_id
        if page.truncated:
            break
        index += 1
    if not page.truncated:
        page.next_key = page.next_version = None
    return page
