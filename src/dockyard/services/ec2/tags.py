"""EC2 tags: `TagSpecifications` on create, tag rules (keys up to 127 characters, values up
to 255, 50 a resource, no `aws:` prefix) and the `Tags` list of every record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.services.ec2.errors import InvalidParameterValue

MAX_TAGS = 50
MAX_KEY = 127
MAX_VALUE = 255


class TagLimitExceeded(InvalidParameterValue):
    code = "TagLimitExceeded"


def checked(tags: Sequence[Mapping[str, Any]] | None, *, values: bool = True) -> dict[str, str]:
    """`[{"Key": k, "Value": v}]` as a dict, each checked as EC2 checks tags."""
    out: dict[str, str] = {}
    for tag in tags or []:
        key = tag.get("Key")
        if key is None or key == "":
            raise InvalidParameterValue("Tag key must not be empty (Tag.Key).")
        key = str(key)
        value = str(tag.get("Value") or "")
        if len(key) > MAX_KEY:
            raise InvalidParameterValue(
                f"Tag key exceeds the maximum length of {MAX_KEY} characters (Tag.Key: {key})."
            )
        if values and len(value) > MAX_VALUE:
            raise InvalidParameterValue(
                f"Tag value exceeds the maximum length of {MAX_VALUE} characters "
                f"(Tag.Value of {key})."
            )
        if key.lower().startswith("aws:"):
            raise InvalidParameterValue(
                f"Tag keys starting with 'aws:' are reserved for internal use (Tag.Key: {key})."
            )
        out[key] = value
    return out


def merged(current: Mapping[str, str], added: Mapping[str, str]) -> dict[str, str]:
    out = {**current, **added}
    if len(out) > MAX_TAGS:
        raise TagLimitExceeded(f"The maximum number of tags per resource ({MAX_TAGS}) is exceeded.")
    return out


def specified(specs: Sequence[Mapping[str, Any]] | None, resource_type: str) -> dict[str, str]:
    """The tags that `TagSpecifications` give a new resource of `resource_type`."""
    out: dict[str, str] = {}
    for spec in specs or []:
        kind = spec.get("ResourceType")
        if kind != resource_type:
            raise InvalidParameterValue(
                f"'{kind}' is not a valid taggable resource type for this operation "
                f"(TagSpecification.ResourceType; expected '{resource_type}')."
            )
        out.update(checked(spec.get("Tags")))
    return merged({}, out)


def to_wire(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
