"""XML documents walked along a botocore shape (query responses, rest-xml bodies)."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

from botocore.model import Shape

from dockyard.api.errors import SerializationError
from dockyard.api.limits import MAX_DEPTH, nested_too_deep
from dockyard.api.protocols.shapes import is_document, members_of, scalar_from_text, text_of

# Characters XML 1.0 cannot carry at all, not even as character references.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """`value` escaped for XML character data; characters XML 1.0 cannot hold (control
    characters, lone surrogates) become U+FFFD so the document still parses."""
    return escape(_NOT_XML.sub("\ufffd", value))


def xml_attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", value))


def namespace_attr(shape: Shape) -> str:
    ns = shape.serialization.get("xmlNamespace")
    if ns is None:
        return ""
    if isinstance(ns, dict):
        prefix = ns.get("prefix")
        attr = f"xmlns:{prefix}" if prefix else "xmlns"
        return f" {attr}={quoteattr(str(ns.get('uri', '')))}"
    return f" xmlns={quoteattr(str(ns))}"


def list_item_name(shape: Shape, name: str) -> str:
    """The element name of a list's items (flattened lists repeat the member's name)."""
    member = shape.member
    if shape.serialization.get("flattened"):
        return str(member.serialization.get("name", name))
    return str(member.serialization.get("name", "member"))


def write(out: list[str], shape: Shape, value: Any, name: str, ts_default: str) -> None:
    """Append `<name>value</name>` (or a flattened run of elements) to `out`."""
    kind = shape.type_name
    if kind == "structure":
        attrs = namespace_attr(shape)
        inner: list[str] = []
        for mname, wire, member in members_of(shape):
            v = value.get(mname) if isinstance(value, dict) else None
            if v is None:
                continue
            if member.serialization.get("xmlAttribute"):
                attrs += f" {wire}={xml_attr(text_of(member, v, ts_default))}"
            else:
                write(inner, member, v, wire, ts_default)
        out.append(f"<{name}{attrs}>")
        out.extend(inner)
        out.append(f"</{name}>")
    elif kind == "list":
        member = shape.member
        item = list_item_name(shape, name)
        if shape.serialization.get("flattened"):
            for v in value:
                write(out, member, v, item, ts_default)
        else:
            out.append(f"<{name}{namespace_attr(shape)}>")
            for v in value:
                write(out, member, v, item, ts_default)
            out.append(f"</{name}>")
    elif kind == "map":
        kshape = shape.key
        vshape = shape.value
        kname = kshape.serialization.get("name", "key")
        vname = vshape.serialization.get("name", "value")
        flat = bool(shape.serialization.get("flattened"))
        if not flat:
            out.append(f"<{name}{namespace_attr(shape)}>")
        for k, v in value.items():
            out.append(f"<{name}>" if flat else "<entry>")
            write(out, kshape, k, kname, ts_default)
            if v is not None:
                write(out, vshape, v, vname, ts_default)
            out.append(f"</{name}>" if flat else "</entry>")
        if not flat:
            out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{xml_text(text_of(shape, value, ts_default))}</{name}>")


# -- reading -------------------------------------------------------------------------------


def parse_document(body: bytes) -> ElementTree.Element:
    try:
        if body.count(b"<") <= MAX_DEPTH:
            return ElementTree.fromstring(body)
        return _parse_bounded(body)
    except ElementTree.ParseError as exc:
        raise SerializationError(f"Request body is not well-formed XML: {exc}") from None


def _parse_bounded(body: bytes) -> ElementTree.Element:
    """The document, refused (SerializationException) once it nests past MAX_DEPTH."""
    parser: ElementTree.XMLPullParser[ElementTree.Element] = ElementTree.XMLPullParser(
        events=("start", "end")
    )
    parser.feed(body)
    parser.close()
    depth = 0
    root: ElementTree.Element | None = None
    for pair in parser.read_events():
        event, item = pair[0], pair[-1]
        if event == "start" and isinstance(item, ElementTree.Element):
            depth += 1
            if depth > MAX_DEPTH:
                raise nested_too_deep()
            if root is None:
                root = item
        elif event == "end":
            depth -= 1
    if root is None:
        raise SerializationError("Request body is not well-formed XML: no element found")
    return root


def tag(el: ElementTree.Element) -> str:
    t = el.tag
    return t.rsplit("}", 1)[1] if t.startswith("{") else t


def read(shape: Shape, el: ElementTree.Element) -> Any:
    """An element's value as input params."""
    kind = shape.type_name
    if kind == "structure":
        if is_document(shape):
            return el.text or ""
        children: dict[str, list[ElementTree.Element]] = {}
        for child in el:
            children.setdefault(tag(child), []).append(child)
        out: dict[str, Any] = {}
        for mname, wire, member in members_of(shape):
            if member.serialization.get("xmlAttribute"):
                for key, attr in el.attrib.items():
                    if key == wire or key.endswith("}" + wire.rsplit(":", 1)[-1]):
                        out[mname] = scalar_from_text(member, attr)
                continue
            if member.type_name == "list" and member.serialization.get("flattened"):
                found = children.get(list_item_name(member, wire)) or children.get(wire)
                if found:
                    item = member.member
                    out[mname] = [read(item, c) for c in found]
                continue
            if member.type_name == "map" and member.serialization.get("flattened"):
                found = children.get(wire)
                if found:
                    out[mname] = _read_entries(member, found)
                continue
            found = children.get(wire)
            if found:
                out[mname] = read(member, found[0])
        return out
    if kind == "list":
        item = shape.member
        return [read(item, c) for c in el]
    if kind == "map":
        return _read_entries(shape, list(el))
    return scalar_from_text(shape, el.text or "")


def _read_entries(shape: Shape, entries: list[ElementTree.Element]) -> dict[str, Any]:
    kshape = shape.key
    vshape = shape.value
    kname = kshape.serialization.get("name", "key")
    vname = vshape.serialization.get("name", "value")
    out: dict[str, Any] = {}
    for entry in entries:
        key: Any = None
        value: Any = None
        for part in entry:
            if tag(part) == kname:
                key = read(kshape, part)
            elif tag(part) == vname:
                value = read(vshape, part)
        if key is not None:
            out[key] = value
    return out
