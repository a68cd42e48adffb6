"""rest-json and rest-xml: HTTP method + URI template, members bound to the URI, query
string, headers and body."""

from __future__ import annotations

import abc
import base64
import json
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from dockyard.api.errors import SerializationError
from dockyard.api.http import HttpRequest, HttpResponse, ResponseStream
from dockyard.api.limits import check_json_depth
from dockyard.api.models import ServiceInfo
from dockyard.api.protocols import xml
from dockyard.api.protocols.base import query_error_header
from dockyard.api.protocols.json import load_json_body
from dockyard.api.protocols.jsonvalues import from_doc, json_blob, json_timestamp, to_doc
from dockyard.api.protocols.shapes import members_of, scalar_from_text, text_of
from dockyard.api.router import Route
from dockyard.core.errors import ServiceError

# A result key whose bytes are the whole response body, in place of the serialized shape.
RAW_BODY = "__body__"
_LOCATED = ("uri", "querystring", "header", "headers", "statusCode")


def _split_header_list(value: str) -> list[str]:
    items: list[str] = []
    buf: list[str] = []
    quoted = False
    i = 0
    while i < len(value):
        c = value[i]
        if c == '"':
            quoted = not quoted
        elif c == "\\" and quoted and i + 1 < len(value):
            i += 1
            buf.append(value[i])
        elif c == "," and not quoted:
            items.append("".join(buf).strip())
            buf = []
        else:
            buf.append(c)
        i += 1
    items.append("".join(buf).strip())
    return [item for item in items if item]


def _header_value(shape: Shape, text: str) -> Any:
    if shape.type_name == "list":
        item = shape.member
        return [_header_value(item, part) for part in _split_header_list(text)]
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        try:
            decoded = base64.b64decode(text)
            check_json_depth(decoded)
            return json.loads(decoded)
        except (ValueError, RecursionError):
            return text
    return scalar_from_text(shape, text)


def _header_text(shape: Shape, value: Any) -> str:
    if shape.type_name == "list":
        item = shape.member
        parts = []
        for v in value:
            text = _header_text(item, v)
            if item.type_name == "string" and ('"' in text or "," in text):
                text = '"' + text.replace('"', '\\"') + '"'
            parts.append(text)
        return ",".join(parts)
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
    return text_of(shape, value, "rfc822")


class _RestCodec(abc.ABC):
    name = "rest"

    # -- body formats (rest-json and rest-xml) -------------------------------------------------

    @abc.abstractmethod
    def read_body(self, shape: Shape, body: bytes) -> Any: ...

    @abc.abstractmethod
    def write_body(self, shape: Shape, value: Mapping[str, Any], name: str) -> bytes: ...

    content_type = "application/json"

    # -- request ------------------------------------------------------------------------------

    def parse(self, req: HttpRequest, op: OperationModel, route: Route) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = {}
        consumed: set[str] = set()
        query_map: tuple[str, Shape] | None = None
        has_body_members = False
        for mname, wire, member in members_of(shape):
            location = member.serialization.get("location")
            if location == "uri":
                if wire in route.labels:
                    params[mname] = scalar_from_text(member, route.labels[wire])
            elif location == "querystring":
                if member.type_name == "map":
                    query_map = (mname, member)
                    continue
                consumed.add(wire)
                values = [v for k, v in req.query if k == wire]
                if not values:
                    continue
                if member.type_name == "list":
                    item = member.member
                    params[mname] = [scalar_from_text(item, v) for v in values]
                else:
                    params[mname] = scalar_from_text(member, values[0])
            elif location == "header":
                text = req.headers.get(wire.lower())
                if text is not None:
                    params[mname] = _header_value(member, text)
            elif location == "headers":
                prefix = wire.lower()
                found = {
                    k[len(prefix) :]: v for k, v in req.headers.items() if k.startswith(prefix)
                }
                if found:
                    params[mname] = found
            else:
                has_body_members = True
        if query_map is not None:
            mname, member = query_map
            vshape = member.value
            qmap: dict[str, Any] = {}
            for k, v in req.query:
                if k in consumed:
                    continue
                if vshape.type_name == "list":
                    qmap.setdefault(k, []).append(v)
                else:
                    qmap.setdefault(k, v)
            if qmap:
                params[mname] = qmap
        payload = shape.serialization.get("payload")
        if payload is not None:
            member = shape.members[payload]
            if member.type_name == "blob":
                params[payload] = req.body
            elif member.type_name == "string":
                params[payload] = req.body.decode("utf-8", errors="replace")
            elif req.body.strip():
                params[payload] = self.read_body(member, req.body)
        elif has_body_members and req.body.strip():
            body = self.read_body(shape, req.body)
            if not isinstance(body, dict):
                raise SerializationError("The request body must be an object")
            for mname, _wire, member in members_of(shape):
                if mname in body and member.serialization.get("location") is None:
                    params[mname] = body[mname]
        return params

    # -- response -----------------------------------------------------------------------------

    def serialize(
        self, op: OperationModel, result: Mapping[str, Any], info: ServiceInfo, request_id: str
    ) -> HttpResponse:
        shape = op.output_shape
        status = int(op.http.get("responseCode", 200))
        headers = self.base_headers(request_id)
        body = b""
        if shape is None:
            return HttpResponse(status, headers, self.empty_body())
        body_values: dict[str, Any] = {}
        for mname, wire, member in members_of(shape):
            v = result.get(mname)
            if v is None:
                continue
            location = member.serialization.get("location")
            if location == "statusCode":
                status = int(v)
            elif location == "header":
                if member.type_name == "list" and not v:
                    continue
                headers.append((wire, _header_text(member, v)))
            elif location == "headers":
                headers.extend((wire + k, str(hv)) for k, hv in v.items())
            elif location is None:
                body_values[mname] = v
        raw = result.get(RAW_BODY)
        if isinstance(raw, bytes):
            # A document of the handler's own (S3 GetBucketLocation: one bare element).
            return HttpResponse(status, headers, raw)
        payload = shape.serialization.get("payload")
        if payload is not None:
            member = shape.members[payload]
            value = result.get(payload)
            if member.type_name == "blob" and value is not None and hasattr(value, "chunks"):
                # A streamed payload (an S3 object's file): sent in pieces by the app.
                stream: ResponseStream = value
                headers[1] = ("Content-Type", "application/octet-stream")
                if any(k.lower() == "content-type" for k, _ in headers[2:]):
                    headers.pop(1)
                return HttpResponse(stream.status or status, headers, b"", stream)
            if member.type_name in ("blob", "string"):
                if isinstance(value, str):
                    value = value.encode("utf-8")
                body = bytes(value or b"")
                headers[1] = ("Content-Type", "application/octet-stream")
            elif value is not None:
                name = member.serialization.get("name", member.name)
                body = self.write_body(member, value, name)
            else:
                body = self.empty_body()
        elif body_values:
            body = self.write_body(shape, body_values, shape.serialization.get("name", shape.name))
        else:
            body = self.empty_body()
        if any(k.lower() == "content-type" for k, _ in headers[2:]):
            headers.pop(1)  # the handler set its own Content-Type header member
        return HttpResponse(status, headers, body)

    def base_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amzn-RequestId", request_id), ("Content-Type", self.content_type)]

    def empty_body(self) -> bytes:
        return b""


class RestJsonCodec(_RestCodec):
    name = "rest-json"
    content_type = "application/json"

    def read_body(self, shape: Shape, body: bytes) -> Any:
        return from_doc(shape, load_json_body(body))

    def write_body(self, shape: Shape, value: Mapping[str, Any], name: str) -> bytes:
        doc = to_doc(shape, value, json_timestamp, json_blob)
        return json.dumps(doc, separators=(",", ":")).encode("utf-8")

    def empty_body(self) -> bytes:
        return b"{}"

    def error(
        self,
        err: ServiceError,
        info: ServiceInfo | None,
        operation: str | None,
        request_id: str,
    ) -> HttpResponse:
        headers = [
            *self.base_headers(request_id),
            ("x-amzn-ErrorType", err.code),
            *query_error_header(err, info),
        ]
        # An error may carry more members of its shape (Lambda's TooManyRequestsException
        # names its Reason).
        doc = {"__type": err.code, "message": err.message, **getattr(err, "extra", {})}
        body = json.dumps(doc).encode("utf-8")
        return HttpResponse(err.status, headers, body)


class RestXmlCodec(_RestCodec):
    name = "rest-xml"
    content_type = "application/xml"

    def read_body(self, shape: Shape, body: bytes) -> Any:
        return xml.read(shape, xml.parse_document(body))

    def write_body(self, shape: Shape, value: Mapping[str, Any], name: str) -> bytes:
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        xml.write(out, shape, value, name, "iso8601")
        return "".join(out).encode("utf-8")

    def base_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [
            ("x-amzn-RequestId", request_id),
            ("Content-Type", self.content_type),
            ("x-amz-request-id", request_id),
        ]

    def error(
        self,
        err: ServiceError,
        info: ServiceInfo | None,
        operation: str | None,
        request_id: str,
    ) -> HttpResponse:
        code, message = xml.xml_text(err.code), xml.xml_text(err.message)
        if info is not None and info.name == "s3":
            body = (
                f"<Error><Code>{code}</Code><Message>{message}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>"
            )
        else:
            ns = f' xmlns="{escape(info.xml_namespace)}"' if info and info.xml_namespace else ""
            fault = "Sender" if err.sender_fault else "Receiver"
            body = (
                f"<ErrorResponse{ns}><Error><Type>{fault}</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
        payload = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")
        return HttpResponse(err.status, self.base_headers(request_id), payload)
