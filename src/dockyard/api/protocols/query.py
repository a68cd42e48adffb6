"""The query protocol (and its EC2 dialect): form parameters in, XML out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from dockyard.api.http import HttpRequest, HttpResponse
from dockyard.api.models import ServiceInfo
from dockyard.api.protocols.shapes import members_of, scalar_from_text
from dockyard.api.protocols.xml import write, xml_text
from dockyard.api.router import Route
from dockyard.core.errors import ServiceError

CONTENT_TYPE = "text/xml"
_MISSING: Any = object()


class _Form:
    """Form parameters with a set of every dotted prefix, to tell present from absent."""

    def __init__(self, form: Mapping[str, str]) -> None:
        self.values = form
        prefixes: set[str] = set()
        for key in form:
            pos = key.find(".")
            while pos >= 0:
                prefixes.add(key[:pos])
                pos = key.find(".", pos + 1)
        self.prefixes = prefixes

    def has(self, key: str) -> bool:
        return key in self.values or key in self.prefixes


def _name(member: Shape, default: str, ec2: bool) -> str:
    if ec2:
        if "queryName" in member.serialization:
            return str(member.serialization["queryName"])
        name = member.serialization.get("name")
        return name[0].upper() + name[1:] if name else default
    return str(member.serialization.get("name", default))


def read(shape: Shape, form: _Form, prefix: str, ec2: bool) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        for mname, _wire, member in members_of(shape):
            key = _name(member, mname, ec2)
            full = f"{prefix}.{key}" if prefix else key
            if not form.has(full) and member.type_name != "list":
                continue
            value = read(member, form, full, ec2)
            if value is not _MISSING:
                out[mname] = value
        return out
    if kind == "list":
        if form.values.get(prefix) == "":
            return []
        item = shape.member
        if ec2:
            base = prefix
        elif shape.serialization.get("flattened"):
            base = prefix
            if item.serialization.get("name"):
                base = ".".join([*prefix.split(".")[:-1], item.serialization["name"]])
        else:
            base = f"{prefix}.{item.serialization.get('name', 'member')}"
        items: list[Any] = []
        i = 1
        while form.has(f"{base}.{i}"):
            items.append(read(item, form, f"{base}.{i}", ec2))
            i += 1
        return items if items or prefix in form.values else _MISSING
    if kind == "map":
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        kshape = shape.key
        vshape = shape.value
        kname = kshape.serialization.get("name", "key")
        vname = vshape.serialization.get("name", "value")
        entries: dict[Any, Any] = {}
        i = 1
        while form.has(f"{base}.{i}"):
            entry_key = form.values.get(f"{base}.{i}.{kname}")
            if entry_key is not None:
                v = f"{base}.{i}.{vname}"
                entries[entry_key] = read(vshape, form, v, ec2) if form.has(v) else None
            i += 1
        return entries
    text = form.values.get(prefix)
    if text is None:
        return _MISSING
    return scalar_from_text(shape, text)


class QueryCodec:
    name = "query"
    ec2 = False

    def parse(self, req: HttpRequest, op: OperationModel, route: Route) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = read(shape, _Form(req.form), "", self.ec2)
        return params

    def serialize(
        self, op: OperationModel, result: Mapping[str, Any], info: ServiceInfo, request_id: str
    ) -> HttpResponse:
        shape = op.output_shape
        ns = f' xmlns="{escape(info.xml_namespace)}"' if info.xml_namespace else ""
        out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{op.name}Response{ns}>']
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result")
            out.append(f"<{wrapper}>")
            for mname, wire, member in members_of(shape):
                v = result.get(mname)
                if v is not None:
                    write(out, member, v, wire, "iso8601")
            out.append(f"</{wrapper}>")
        out.append(
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            f"</{op.name}Response>"
        )
        return HttpResponse(200, _headers(request_id), "".join(out).encode("utf-8"))

    def error(
        self,
        err: ServiceError,
        info: ServiceInfo | None,
        operation: str | None,
        request_id: str,
    ) -> HttpResponse:
        ns = ""
        if info is not None and info.xml_namespace:
            ns = f' xmlns="{escape(info.xml_namespace)}"'
        fault = "Sender" if err.sender_fault else "Receiver"
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse{ns}><Error>'
            f"<Type>{fault}</Type><Code>{xml_text(err.code)}</Code>"
            f"<Message>{xml_text(err.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return HttpResponse(err.status, _headers(request_id), body.encode("utf-8"))


class Ec2Codec(QueryCodec):
    name = "ec2"
    ec2 = True

    def serialize(
        self, op: OperationModel, result: Mapping[str, Any], info: ServiceInfo, request_id: str
    ) -> HttpResponse:
        shape = op.output_shape
        ns = f"http://ec2.amazonaws.com/doc/{info.api_version}/"
        out = [
            f'<?xml version="1.0" encoding="UTF-8"?>\n<{op.name}Response xmlns="{ns}">'
            f"<requestId>{request_id}</requestId>"
        ]
        if shape is not None:
            for mname, wire, member in members_of(shape):
                v = result.get(mname)
                if v is not None:
                    write(out, member, v, wire, "iso8601")
        out.append(f"</{op.name}Response>")
        return HttpResponse(200, _headers(request_id), "".join(out).encode("utf-8"))

    def error(
        self,
        err: ServiceError,
        info: ServiceInfo | None,
        operation: str | None,
        request_id: str,
    ) -> HttpResponse:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{xml_text(err.code)}</Code><Message>{xml_text(err.message)}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        return HttpResponse(err.status, _headers(request_id), body.encode("utf-8"))


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [("x-amzn-RequestId", request_id), ("Content-Type", CONTENT_TYPE)]
