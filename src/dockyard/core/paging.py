"""Opaque pagination tokens over sorted keys."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


class InvalidToken(ValueError):
    pass


def encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def decode_token(token: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        after = data["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(token) from exc
    if not isinstance(after, str):
        raise InvalidToken(token)
    return after


def page(
    items: Sequence[T],
    key: Callable[[T], str],
    next_token: str | None,
    max_results: int | None,
    default_max: int = 100,
) -> tuple[list[T], str | None]:
    """One page of `items` (already sorted by `key`) after the token's key."""
    ordered = list(items)
    if next_token:
        after = decode_token(next_token)
        ordered = [item for item in ordered if key(item) > after]
    limit = max_results or default_max
    chunk = ordered[:limit]
    token = encode_token(key(chunk[-1])) if len(ordered) > limit and chunk else None
    return chunk, token
