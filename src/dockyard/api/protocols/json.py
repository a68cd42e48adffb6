"""awsJson 1.0 / 1.1: X-Amz-Target routing, a JSON document in and out."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel

from dockyard.api.errors import SerializationError
from dockyard.api.http import HttpRequest, HttpResponse
from dockyard.api.limits import check_json_depth, nested_too_deep
from dockyard.api.models import ServiceInfo
from dockyard.api.protocols.base import query_error_header
from dockyard.api.protocols.jsonvalues import from_doc, json_blob, json_timestamp, to_doc
from dockyard.api.router import Route
from dockyard.core.errors import ServiceError

_dumps = json.JSONEncoder(separators=(",", ":")).encode
_dumps_unicode = json.JSONEncoder(ensure_ascii=False).encode


# A \uD800-\uDFFF escape: JSON lets a client write one, but alone it is no character.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def load_json_body(body: bytes) -> Any:
    if not body.strip():
        return {}
    check_json_depth(body)
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SerializationError(f"Request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise nested_too_deep() from None
    if _SURROGATE_ESCAPE.search(body):
        try:  # escaped pairs decode to one character; a lone half cannot be UTF-8
            _dumps_unicode(doc).encode("utf-8")
        except UnicodeEncodeError:
            raise SerializationError(
                "Request body is not valid JSON: it holds an unpaired UTF-16 surrogate "
                "(\\uD800-\\uDFFF), which is not a character"
            ) from None
    return doc


def error_body(err: ServiceError) -> bytes:
    return _dumps({"__type": err.code, "message": err.message}).encode("utf-8")


class JsonCodec:
    name = "json"

    def parse(self, req: HttpRequest, op: OperationModel, route: Route) -> dict[str, Any]:
        doc = load_json_body(req.body)
        shape = op.input_shape
        if not isinstance(doc, dict):
            raise SerializationError("Request body must be a JSON object")
        if shape is None:
            return {}
        params: dict[str, Any] = from_doc(shape, doc)
        return params

    def serialize(
        self, op: OperationModel, result: Mapping[str, Any], info: ServiceInfo, request_id: str
    ) -> HttpResponse:
        shape = op.output_shape
        doc = {} if shape is None else to_doc(shape, result, json_timestamp, json_blob)
        return HttpResponse(
            200,
            [
                ("x-amzn-RequestId", request_id),
                ("Content-Type", f"application/x-amz-json-{info.json_version}"),
            ],
            _dumps(doc).encode("utf-8"),
        )

    def error(
        self,
        err: ServiceError,
        info: ServiceInfo | None,
        operation: str | None,
        request_id: str,
    ) -> HttpResponse:
        version = info.json_version if info is not None else "1.1"
        headers = [
            ("x-amzn-RequestId", request_id),
            ("Content-Type", f"application/x-amz-json-{version}"),
            ("x-amzn-ErrorType", err.code),
            *query_error_header(err, info),
        ]
        return HttpResponse(err.status, headers, error_body(err))
