"""Shape helpers shared by the protocols: member tables, timestamps, scalars."""

from __future__ import annotations

import base64
import binascii
import calendar
import math
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from botocore.model import Shape
from botocore.utils import parse_timestamp

from dockyard.core import timefmt

# (member name, wire name, member shape)
Member = tuple[str, str, Shape]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def members_of(shape: Shape) -> tuple[Member, ...]:
    """A structure's members with their wire names (locationName), computed once."""
    cached: tuple[Member, ...] | None = shape.__dict__.get("_dy_members")
    if cached is None:
        cached = tuple(
            (name, m.serialization.get("name", name), m) for name, m in shape.members.items()
        )
        shape.__dict__["_dy_members"] = cached
    return cached


def is_document(shape: Shape) -> bool:
    return bool(getattr(shape, "is_document_type", False))


# -- timestamps --------------------------------------------------------------------------


def to_datetime(value: Any) -> datetime | Any:
    """A wire timestamp (epoch number, ISO 8601, RFC 822) as an aware UTC datetime;
    anything unparseable is returned unchanged (validation reports it)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return value
    if isinstance(value, str):
        try:
            return parse_timestamp(value).astimezone(UTC)
        except (ValueError, TypeError, OverflowError):
            return value
    return value


def epoch_seconds(value: datetime | float) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return (value - _EPOCH).total_seconds()
    return float(value)


def epoch_number(value: datetime | float) -> int | float:
    seconds = epoch_seconds(value)
    whole = int(seconds)
    return whole if whole == seconds else round(seconds, 3)


def iso8601(value: datetime | float) -> str:
    if not isinstance(value, datetime):
        value = datetime.fromtimestamp(value, UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    else:
        value = value.astimezone(UTC)
    return timefmt.iso(value.timestamp())


def rfc822(value: datetime | float) -> str:
    seconds = epoch_seconds(value)
    return formatdate(
        calendar.timegm(datetime.fromtimestamp(seconds, UTC).timetuple()), usegmt=True
    )


def format_timestamp(value: datetime | float, fmt: str) -> str | int | float:
    fmt = fmt.lower()
    if fmt == "unixtimestamp":
        return epoch_number(value)
    if fmt == "rfc822":
        return rfc822(value)
    return iso8601(value)


def timestamp_format(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("timestampFormat", default))


# -- scalars from text (query strings, headers, XML) ------------------------------------


def b64decode(value: str) -> bytes | str:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value


def b64encode(value: bytes | str) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).decode("ascii")


def scalar_from_text(shape: Shape, text: str) -> Any:
    """A scalar from its text form; text that does not fit the type stays text."""
    kind = shape.type_name
    if kind in ("string", "character"):
        return text
    if kind in ("integer", "long", "short", "byte", "bigInteger"):
        try:
            return int(text)
        except ValueError:
            return text
    if kind in ("float", "double", "bigDecimal"):
        try:
            return float(text)
        except ValueError:
            return text
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        return text
    if kind == "timestamp":
        stripped = text.strip()
        try:
            return to_datetime(float(stripped))
        except ValueError:
            return to_datetime(stripped)
    if kind == "blob":
        return b64decode(text)
    return text


def float_to_wire(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def text_of(shape: Shape, value: Any, ts_default: str) -> str:
    """A scalar's text form (query strings, headers, XML)."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return str(format_timestamp(value, timestamp_format(shape, ts_default)))
    if kind == "blob":
        return b64encode(value)
    if kind in ("float", "double") and isinstance(value, float):
        return str(float_to_wire(value))
    return str(value)
