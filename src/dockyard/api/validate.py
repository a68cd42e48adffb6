"""Input validation against the botocore input shape: required members, types, enums,
lengths and ranges, reported the way AWS reports them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.model import Shape

from dockyard.api.errors import ValidationError
from dockyard.api.protocols.shapes import is_document, members_of

_INTEGRAL = ("integer", "long", "short", "byte", "bigInteger")
_REAL = ("float", "double", "bigDecimal")


def _required(shape: Shape) -> frozenset[str]:
    cached: frozenset[str] | None = shape.__dict__.get("_dy_required")
    if cached is None:
        cached = frozenset(getattr(shape, "required_members", ()) or ())
        shape.__dict__["_dy_required"] = cached
    return cached


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _fail(errors: list[str], value: Any, path: str, rule: str) -> None:
    errors.append(f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: {rule}")


def _null(errors: list[str], path: str) -> None:
    errors.append(f"Value null at '{path}' failed to satisfy constraint: Member must not be null")


def _length(shape: Shape, value: Any, size: int, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    if low is not None and size < low:
        _fail(errors, value, path, f"Member must have length greater than or equal to {low}")
    if high is not None and size > high:
        _fail(errors, value, path, f"Member must have length less than or equal to {high}")


def _range(shape: Shape, value: float, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    if low is not None and value < low:
        _fail(errors, value, path, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        _fail(errors, value, path, f"Member must have value less than or equal to {high}")


def check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        if is_document(shape):
            return
        if not isinstance(value, dict):
            _fail(errors, value, path or "input", "Member must be a structure")
            return
        required = _required(shape)
        present = 0
        for name, _wire, member in members_of(shape):
            v = value.get(name)
            if v is None:
                if name in required:
                    _null(errors, f"{path}.{name}" if path else name)
                continue
            present += 1
            check(member, v, f"{path}.{name}" if path else name, errors)
        if getattr(shape, "is_tagged_union", False) and present != 1:
            _fail(errors, value, path or "input", "Member must have exactly one member set")
    elif kind == "list":
        if not isinstance(value, list):
            _fail(errors, value, path, "Member must be a list")
            return
        _length(shape, value, len(value), path, errors)
        item = shape.member
        for i, v in enumerate(value, 1):
            if v is None:  # no list of the served models is sparse
                _null(errors, f"{path}.{i}.member")
                continue
            check(item, v, f"{path}.{i}.member", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            _fail(errors, value, path, "Member must be a map")
            return
        _length(shape, value, len(value), path, errors)
        kshape = shape.key
        vshape = shape.value
        for k, v in value.items():
            check(kshape, k, f"{path}.key", errors)
            if v is None:
                _null(errors, f"{path}.{k}")
            else:
                check(vshape, v, f"{path}.{k}", errors)
    elif kind == "string":
        if not isinstance(value, str):
            _fail(errors, value, path, "Member must be of type string")
            return
        enum = shape.enum
        if enum and value not in enum:
            _fail(errors, value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        _length(shape, value, len(value), path, errors)
    elif kind in _INTEGRAL:
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(errors, value, path, f"Member must be of type {kind}")
            return
        _range(shape, value, path, errors)
    elif kind in _REAL:
        if not isinstance(value, int | float) or isinstance(value, bool):
            _fail(errors, value, path, f"Member must be of type {kind}")
            return
        _range(shape, value, path, errors)
    elif kind == "boolean":
        if not isinstance(value, bool):
            _fail(errors, value, path, "Member must be of type boolean")
    elif kind == "timestamp":
        if not isinstance(value, datetime):
            _fail(errors, value, path, "Member must be a timestamp")
    elif kind == "blob":
        if not isinstance(value, bytes | bytearray):
            _fail(errors, value, path, "Member must be a blob (base64-encoded)")
            return
        _length(shape, value, len(value), path, errors)


def validate(shape: Shape | None, params: dict[str, Any], code: str) -> None:
    """Raise a ValidationError (with `code`) listing every violation of `shape`."""
    if shape is None:
        return
    errors: list[str] = []
    check(shape, params, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise ValidationError(
            f"{count} validation {noun} detected: " + "; ".join(errors), code=code
        )
