"""ECS resource tags: validation and the TagResource family."""

from __future__ import annotations

from typing import Any

from dockyard.services.ecs.errors import InvalidParameterException

MAX_TAGS = 50


def validate_tags(tags: list[dict[str, Any]], field: str = "tags") -> dict[str, str]:
    result: dict[str, str] = {}
    for tag in tags:
        key = tag.get("key")
        if not key:
            raise InvalidParameterException(f"Tag keys must not be empty ({field}).")
        if key.lower().startswith("aws:"):
            raise InvalidParameterException(
                f"Tag keys with the aws: prefix are reserved ({field}: {key})."
            )
        result[key] = tag.get("value", "")
    if len(result) > MAX_TAGS:
        raise InvalidParameterException(f"A resource can have at most {MAX_TAGS} tags ({field}).")
    return result


def tags_to_wire(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]
