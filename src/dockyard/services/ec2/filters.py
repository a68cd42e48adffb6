"""`Filters` of every Describe*: AND across filters, OR across a filter's values, `*` and `?`
wildcards matched in linear time (`core.wildcard`); `tag:<key>`, `tag-key` and `tag-value` on
any tagged resource. And `MaxResults`/`NextToken` pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from dockyard.core.paging import InvalidToken, page
from dockyard.core.wildcard import Matcher, compile_wildcard
from dockyard.services.ec2.errors import InvalidParameterValue

T = TypeVar("T")

MAX_FILTERS = 50
MAX_VALUES = 200
MAX_VALUE_LENGTH = 255

# What a record answers for each filter name it knows (values as text: `true`, `80`).
Fields = Mapping[str, Iterable[str]]


def text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def tag_fields(tags: Mapping[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"tag-key": list(tags), "tag-value": list(tags.values())}
    for key, value in tags.items():
        out[f"tag:{key}"] = [value]
    return out


def compile_filters(
    specs: Sequence[Mapping[str, Any]] | None, known: Iterable[str], tagged: bool = True
) -> Callable[[Fields], bool]:
    """A test over a record's fields; unknown filter names are refused as EC2 refuses them."""
    names = set(known) | ({"tag-key", "tag-value"} if tagged else set())
    compiled: list[tuple[str, list[Matcher]]] = []
    specs = list(specs or [])
    if len(specs) > MAX_FILTERS:
        raise InvalidParameterValue(f"The request can have at most {MAX_FILTERS} filters.")
    for spec in specs:
        name = str(spec.get("Name") or "")
        if name not in names and not (tagged and name.startswith("tag:") and len(name) > 4):
            raise InvalidParameterValue(f"The filter '{name}' is invalid")
        values = [str(v) for v in spec.get("Values") or []]
        if len(values) > MAX_VALUES or any(len(v) > MAX_VALUE_LENGTH for v in values):
            raise InvalidParameterValue(
                f"The filter '{name}' can have at most {MAX_VALUES} values of at most "
                f"{MAX_VALUE_LENGTH} characters each."
            )
        compiled.append((name, [compile_wildcard(v) for v in values]))

    def match(fields: Fields) -> bool:
        for name, matchers in compiled:
            have = list(fields.get(name, ()))
            if not any(m(v) for m in matchers for v in have):
                return False
        return True

    return match


def select(
    items: Iterable[T],
    fields: Callable[[T], Fields],
    specs: Sequence[Mapping[str, Any]] | None,
    known: Iterable[str],
) -> list[T]:
    match = compile_filters(specs, known)
    return [item for item in items if match(fields(item))]


def paged(
    items: Sequence[T],
    key: Callable[[T], str],
    p: Mapping[str, Any],
    least: int = 5,
    most: int = 1000,
) -> tuple[list[T], str | None]:
    """One page of `items` (sorted by `key`); MaxResults must lie in [least, most]."""
    limit = p.get("MaxResults")
    if limit is not None and not least <= int(limit) <= most:
        raise InvalidParameterValue(
            f"Value ( {limit} ) for parameter maxResults is invalid. Parameter must be "
            f"between {least} and {most}."
        )
    try:
        return page(items, key, p.get("NextToken"), limit, default_max=len(items) or 1)
    except InvalidToken as exc:
        raise InvalidParameterValue(
            f"Value ( {p.get('NextToken')} ) for parameter nextToken is invalid."
        ) from exc


def with_token(out: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        out["NextToken"] = token
    return out
