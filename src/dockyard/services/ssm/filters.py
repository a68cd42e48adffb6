"""ParameterFilters of DescribeParameters and GetParametersByPath."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dockyard.services.ssm.errors import InvalidFilterKey, InvalidFilterOption, InvalidFilterValue
from dockyard.services.ssm.model import Parameter

Match = Callable[[Parameter], bool]

EQUALS_ONLY = ("Type", "KeyId", "Tier", "DataType", "Label")
BY_PATH_KEYS = ("Type", "KeyId", "Label")


def under(name: str, path: str, recursive: bool) -> bool:
    """Whether parameter `name` lies under `path` (one level down unless `recursive`)."""
    prefix = path if path.endswith("/") else path + "/"
    if not name.startswith(prefix) or name == prefix:
        return False
    return recursive or "/" not in name[len(prefix) :]


def _one(spec: dict[str, Any], by_path: bool) -> Match:
    key = str(spec.get("Key", ""))
    option = spec.get("Option")
    values = [str(v) for v in spec.get("Values") or []]
    if by_path and not (key in BY_PATH_KEYS or key.startswith("tag:")):
        raise InvalidFilterKey(
            f"The following filter key is not valid: {key}. Valid filter keys include: "
            f"[{', '.join(BY_PATH_KEYS)}, tag:*]."
        )
    if key.startswith("tag:"):
        tag = key[4:]
        if option not in (None, "Equals"):
            raise InvalidFilterOption(f"The filter option {option} is not valid for key {key}.")
        return lambda p: tag in p.tags and (not values or p.tags[tag] in values)
    if not values:
        raise InvalidFilterValue(f"The filter {key} needs at least one value (Values).")
    if key == "Name":
        opt = option or "Equals"
        if opt == "Equals":
            return lambda p: p.name in values
        if opt == "BeginsWith":
            return lambda p: any(p.name.startswith(v) for v in values)
        if opt == "Contains":
            return lambda p: any(v in p.name for v in values)
        raise InvalidFilterOption(
            f"The filter option {opt} is not valid for key Name. Valid options include: "
            "[BeginsWith, Equals, Contains]."
        )
    if key == "Path":
        opt = option or "OneLevel"
        if opt not in ("OneLevel", "Recursive"):
            raise InvalidFilterOption(
                f"The filter option {opt} is not valid for key Path. Valid options include: "
                "[Recursive, OneLevel]."
            )
        return lambda p: any(under(p.name, v, opt == "Recursive") for v in values)
    if key in EQUALS_ONLY:
        if option not in (None, "Equals"):
            raise InvalidFilterOption(
                f"The filter option {option} is not valid for key {key}. Valid options "
                "include: [Equals]."
            )
        if key == "Label":
            return lambda p: any(label in v.labels for v in p.versions for label in values)
        field = {"Type": "type", "KeyId": "key_id", "Tier": "tier", "DataType": "data_type"}[key]
        return lambda p: getattr(p.current, field) in values
    raise InvalidFilterKey(f"The following filter key is not valid: {key}.")


def compile_filters(specs: Sequence[dict[str, Any]] | None, *, by_path: bool = False) -> Match:
    matches = [_one(spec, by_path) for spec in specs or []]
    return lambda p: all(m(p) for m in matches)


def legacy(specs: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """DescribeParameters' older `Filters` (Name, Type, KeyId) as ParameterFilters."""
    out: list[dict[str, Any]] = []
    for spec in specs or []:
        key = spec.get("Key")
        if key not in ("Name", "Type", "KeyId"):
            raise InvalidFilterKey(f"The following filter key is not valid: {key}.")
        option = "BeginsWith" if key == "Name" else "Equals"
        out.append({"Key": key, "Option": option, "Values": spec.get("Values") or []})
    return out
