"""NextToken / MaxRecords pages of EC2 Auto Scaling's Describe* answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from dockyard.core import paging
from dockyard.services.ec2autoscaling.errors import InvalidNextToken

T = TypeVar("T")


def page(items: Sequence[T], key: Callable[[T], str], token: str | None,
         limit: int) -> tuple[list[T], str | None]:  # fmt: skip
    """One page of `items`, sorted by `key`, after the token's key."""
    ordered = sorted(items, key=key)
    try:
        return paging.page(ordered, key, token, limit, limit)
    except paging.InvalidToken as exc:
        raise InvalidNextToken("The token provided is invalid.") from exc


def page_in_order(items: Sequence[T], key: Callable[[T], str], token: str | None,
                  limit: int) -> tuple[list[T], str | None]:  # fmt: skip
    """One page of `items` in the order given (not sorted), after the item the token names;
    a token naming an item no longer listed is invalid."""
    start = 0
    if token:
        try:
            after = paging.decode_token(token)
        except paging.InvalidToken as exc:
            raise InvalidNextToken("The token provided is invalid.") from exc
        keys = [key(i) for i in items]
        if after not in keys:
            raise InvalidNextToken("The token provided is invalid.")
        start = keys.index(after) + 1
    chunk = list(items[start : start + limit])
    more = start + limit < len(items)
    return chunk, paging.encode_token(key(chunk[-1])) if more and chunk else None
