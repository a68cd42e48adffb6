"""One page of an ECS List* operation: `maxResults` (1 to 100) and `nextToken`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dockyard.core.paging import InvalidToken, page
from dockyard.services.ecs.errors import InvalidParameterException

T = TypeVar("T")


def list_page(
    items: Sequence[T], key: Callable[[T], str], p: dict[str, Any], *, default_max: int = 100
) -> tuple[list[T], dict[str, str]]:
    """The page of `items` (sorted by `key`) that the request asks for, and the output's
    `nextToken` member (empty on the last page)."""
    max_results = p.get("maxResults")
    if max_results is not None and not 1 <= max_results <= 100:
        raise InvalidParameterException("maxResults must be between 1 and 100 (maxResults).")
    try:
        chunk, token = page(items, key, p.get("nextToken"), max_results, default_max)
    except InvalidToken as exc:
        raise InvalidParameterException("Invalid nextToken (nextToken).") from exc
    return chunk, ({"nextToken": token} if token else {})
