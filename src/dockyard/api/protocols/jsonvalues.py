"""Values to and from JSON/CBOR documents, walked along a botocore shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.model import Shape

from dockyard.api.protocols.shapes import (
    b64decode,
    b64encode,
    epoch_number,
    float_to_wire,
    format_timestamp,
    is_document,
    members_of,
    to_datetime,
)


def from_doc(shape: Shape, value: Any, use_wire_names: bool = True) -> Any:
    """Decoded JSON/CBOR -> input params. Values of the wrong type are kept as they are,
    for validation to report."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict) or is_document(shape):
            return value
        out: dict[str, Any] = {}
        for name, wire, member in members_of(shape):
            raw = value.get(wire if use_wire_names else name)
            if raw is not None:
                out[name] = from_doc(member, raw, use_wire_names)
        return out
    if kind == "list":
        if not isinstance(value, list):
            return value
        item = shape.member
        return [from_doc(item, v, use_wire_names) for v in value]
    if kind == "map":
        if not isinstance(value, dict):
            return value
        vshape = shape.value
        return {k: from_doc(vshape, v, use_wire_names) for k, v in value.items()}
    if kind == "timestamp":
        return to_datetime(value)
    if kind == "blob":
        return b64decode(value) if isinstance(value, str) else value
    if kind in ("float", "double") and value in ("NaN", "Infinity", "-Infinity"):
        return float(value)
    return value


def to_doc(
    shape: Shape,
    value: Any,
    timestamp: Callable[[Shape, Any], Any],
    blob: Callable[[Any], Any],
    use_wire_names: bool = True,
) -> Any:
    """Output dict -> JSON/CBOR-ready values. Keys the shape does not know and None
    values are left out."""
    kind = shape.type_name
    if kind == "structure":
        if is_document(shape):
            return value
        out: dict[str, Any] = {}
        for name, wire, member in members_of(shape):
            v = value.get(name)
            if v is not None:
                out[wire if use_wire_names else name] = to_doc(
                    member, v, timestamp, blob, use_wire_names
                )
        return out
    if kind == "list":
        item = shape.member
        if item.type_name in _PLAIN:
            return list(value)
        return [to_doc(item, v, timestamp, blob, use_wire_names) for v in value]
    if kind == "map":
        vshape = shape.value
        if vshape.type_name in _PLAIN:
            return dict(value)
        return {
            k: to_doc(vshape, v, timestamp, blob, use_wire_names)
            for k, v in value.items()
            if v is not None
        }
    if kind == "timestamp":
        return timestamp(shape, value)
    if kind == "blob":
        return blob(value)
    if kind in ("float", "double"):
        return float_to_wire(float(value))
    return value


_PLAIN = frozenset(("string", "integer", "long", "boolean", "short", "byte"))


def json_timestamp(shape: Shape, value: datetime | float) -> Any:
    fmt = shape.serialization.get("timestampFormat")
    if fmt is None:
        return epoch_number(value)
    return format_timestamp(value, fmt)


def json_blob(value: bytes | str) -> str:
    return b64encode(value)
