"""Hypothesis strategies drawn from botocore shapes, for fuzzing the front door.

`typed` gives well-typed parameters (what botocore would serialize) with random contents;
`json_doc` and `form` give wire-level documents in which any value may be of the wrong type.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

MAX_DEPTH = 5

_NAMEISH = [
    "",
    " ",
    "a",
    "default",
    "x" * 300,
    "arn:aws:ecs:us-east-1:000000000000:cluster/nope",
    "arn:aws:logs:us-east-1:000000000000:log-group:nope:*",
    "arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/nope/0123456789abcdef",
    "arn:aws:cloudwatch:us-east-1:000000000000:alarm:nope",
    "arn:aws:nope",
    "arn:",
    "nope:1",
    "nope:0",
    "nope:-1",
    "nope:99999999999999999999",
    "../../etc/passwd",
    "%00",
    "\x00",
    "\u2603 snow",
    "\ud800x",
    "{}",
    "[",
    "*",
    "1970-01-01T00:00:00Z",
    "-1",
    "99999999999999999999",
]
_INTS = [0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63)]
_FLOATS = [0.0, -0.0, -1.0, 1e308, -1e308, 5e-324, float("inf"), float("-inf"), float("nan")]


def _text() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(_NAMEISH), st.text(max_size=24))


def typed(shape: Shape, kept: Sequence[str] = (), depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of `shape`'s type with random contents; optional members may be left out."""
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)
        required = set(getattr(shape, "required_members", ()) or ())
        members = dict(shape.members)
        if depth >= MAX_DEPTH:
            members = {k: v for k, v in members.items() if k in required}
        return st.fixed_dictionaries(
            {k: typed(v, kept, depth + 1) for k, v in members.items() if k in required},
            optional={
                k: typed(v, kept, depth + 1) for k, v in members.items() if k not in required
            },
        )
    if kind == "list":
        item = typed(shape.member, kept, depth + 1)
        if depth > 1:  # huge lists only at the top, or requests grow to megabytes
            return st.one_of(st.lists(item, max_size=3), st.just([]))
        many = st.builds(lambda x, n: [x] * n, item, st.integers(101, 130))
        return st.one_of(st.lists(item, max_size=3), st.just([]), many)
    if kind == "map":
        return st.dictionaries(
            typed(shape.key, kept, depth + 1), typed(shape.value, kept, depth + 1), max_size=3
        )
    if kind == "string":
        choices = [_text(), _text(), _text()]
        if shape.enum:
            choices.insert(0, st.sampled_from([*shape.enum, "NOT_A_VALUE"]))
        if kept:
            choices.append(st.sampled_from(list(kept)))
        return st.one_of(choices)
    if kind in ("integer", "long", "short", "byte", "bigInteger"):
        return st.one_of(st.sampled_from(_INTS), st.integers(-(2**63), 2**63 - 1),
                         st.integers(-10, 1000))  # fmt: skip
    if kind in ("float", "double", "bigDecimal"):
        return st.one_of(st.sampled_from(_FLOATS), st.floats(-1e6, 1e6))
    if kind == "boolean":
        return st.booleans()
    if kind == "timestamp":
        return st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
        )
    if kind == "blob":
        return st.binary(max_size=32)
    return st.none()


# -- wire-level: JSON / CBOR documents ----------------------------------------------------------

_GARBAGE: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
    st.just({"": None}),
    st.just([[[]]]),
)


def _wire_name(name: str, member: Shape) -> str:
    return str(member.serialization.get("name", name))


def json_doc(
    shape: Shape, depth: int = 0, wire_names: bool = True, unknown: bool = True
) -> st.SearchStrategy[Any]:
    """A JSON-ready document for `shape` in which any value may be garbage of another type,
    any member (required or not) may be missing, and (`unknown`) unknown members may appear."""
    kind = shape.type_name
    good: st.SearchStrategy[Any]
    if kind == "structure" and not shape.metadata.get("document"):
        members = dict(shape.members) if depth < MAX_DEPTH else {}
        good = st.fixed_dictionaries(
            {},
            optional={
                (_wire_name(k, v) if wire_names else k): json_doc(v, depth + 1, wire_names, unknown)
                for k, v in members.items()
            }
            | ({"NotAMember": _GARBAGE} if unknown else {}),
        )
    elif kind == "list":
        good = st.lists(json_doc(shape.member, depth + 1, wire_names, unknown), max_size=3)
    elif kind == "map":
        good = st.dictionaries(
            st.text(max_size=8), json_doc(shape.value, depth + 1, wire_names, unknown), max_size=3
        )
    elif kind == "timestamp":
        good = st.one_of(
            st.floats(-1e12, 1e12), st.sampled_from(["2024-01-01T00:00:00Z", "yesterday", ""])
        )
    elif kind == "blob":
        good = st.one_of(
            st.binary(max_size=16).map(lambda b: base64.b64encode(b).decode()),
            st.sampled_from(["not base64!", "===="]),
        )
    else:
        good = typed(shape, (), MAX_DEPTH)
        if kind in ("float", "double", "bigDecimal"):
            good = good.map(lambda f: f if f == f and abs(f) != float("inf") else 0.0)
    return st.one_of(good, good, good, _GARBAGE)


# -- wire-level: query-protocol forms -------------------------------------------------------------


def _form_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", "abc", "1", "-1", "1e999", "NaN", "true", "2024-01-01T00:00:00Z",
                         "99999999999999999999999", "%ZZ", "\x00"]),
        st.text(max_size=12),
    )  # fmt: skip


@st.composite
def form(draw: st.DrawFn, shape: Shape | None) -> dict[str, str]:
    """Form parameters whose keys follow `shape` (with list/map indexes that may skip,
    start at 0 or run huge) and whose values are random text."""
    out: dict[str, str] = {}

    def walk(s: Shape, prefix: str, depth: int) -> None:
        kind = s.type_name
        if depth > MAX_DEPTH:
            return
        if kind == "structure":
            for name, member in s.members.items():
                if draw(st.integers(0, 2)) == 0:
                    continue
                key = _wire_name(name, member)
                walk(member, f"{prefix}.{key}" if prefix else key, depth + 1)
        elif kind == "list":
            if draw(st.booleans()):
                out[prefix] = ""
                return
            base = prefix if s.serialization.get("flattened") else f"{prefix}.member"
            for i in draw(st.lists(st.sampled_from([0, 1, 2, 3, 101, 2**40]), max_size=3)):
                walk(s.member, f"{base}.{i}", depth + 1)
        elif kind == "map":
            for i in draw(st.lists(st.sampled_from([0, 1, 2]), max_size=2)):
                out[f"{prefix}.entry.{i}.key"] = draw(_form_text())
                walk(s.value, f"{prefix}.entry.{i}.value", depth + 1)
        else:
            out[prefix] = draw(_form_text())

    if shape is not None:
        walk(shape, "", 0)
    if draw(st.booleans()):
        out[draw(st.text(min_size=1, max_size=8))] = draw(_form_text())
    return out
