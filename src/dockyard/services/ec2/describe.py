"""What every Describe* shares: the ids asked for (each must exist), filters, then a page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from dockyard.core.errors import ServiceError
from dockyard.services.ec2 import filters

T = TypeVar("T")


def described(
    items: Sequence[T],
    ident: Callable[[T], str],
    wanted: Iterable[str] | None,
    missing: Callable[[list[str]], ServiceError],
    fields: Callable[[T], filters.Fields],
    known: Iterable[str],
    p: Mapping[str, Any],
) -> tuple[list[T], str | None]:
    """The page of `items` that Describe* answers for `p` (ids, `Filters`, paging)."""
    chosen = list(items)
    ids = list(dict.fromkeys(wanted or []))
    if ids:
        have = {ident(x): x for x in chosen}
        absent = [i for i in ids if i not in have]
        if absent:
            raise missing(absent)
        chosen = [have[i] for i in sorted(ids)]
    chosen = filters.select(chosen, fields, p.get("Filters"), known)
    return filters.paged(chosen, ident, p)


def missing_ids(code: str, what: str) -> Callable[[list[str]], ServiceError]:
    """`InvalidVpcID.NotFound: The vpc ID 'vpc-1, vpc-2' does not exist`."""

    def make(ids: list[str]) -> ServiceError:
        return ServiceError(f"The {what} ID '{', '.join(ids)}' does not exist", code=code)

    return make
