"""Smithy RPC v2 CBOR: POST /service/{Service}/operation/{Operation}, CBOR in and out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import cbor2
from botocore.model import OperationModel, Shape

from dockyard.api.errors import SerializationError
from dockyard.api.http import HttpRequest, HttpResponse
from dockyard.api.models import ServiceInfo
from dockyard.api.protocols.base import query_error_header
from dockyard.api.protocols.jsonvalues import from_doc, to_doc
from dockyard.api.protocols.shapes import epoch_number
from dockyard.api.router import Route
from dockyard.core.errors import ServiceError

CONTENT_TYPE = "application/cbor"


def _timestamp(shape: Shape, value: datetime | float) -> cbor2.CBORTag:
    return cbor2.CBORTag(1, epoch_number(value))


def _blob(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [
        ("x-amzn-RequestId", request_id),
        ("Content-Type", CONTENT_TYPE),
        ("Smithy-Protocol", "rpc-v2-cbor"),
    ]


class CborCodec:
    name = "smithy-rpc-v2-cbor"

    def parse(self, req: HttpRequest, op: OperationModel, route: Route) -> dict[str, Any]:
        doc: Any = {}
        if req.body:
            try:
                doc = cbor2.loads(req.body)
            except (cbor2.CBORDecodeError, ValueError, TypeError, EOFError) as exc:
                raise SerializationError(f"Request body is not valid CBOR: {exc}") from None
        if not isinstance(doc, dict):
            raise SerializationError("Request body must be a CBOR map")
        shape = op.input_shape
        if shape is None:
            return {}
        params: dict[str, Any] = from_doc(shape, doc)
        return params

    def serialize(
        self, op: OperationModel, result: Mapping[str, Any], info: ServiceInfo, request_id: str
    ) -> HttpResponse:
        shape = op.output_shape
        doc = (
            {} if shape is None else to_doc(shape, result, _timestamp, _blob, use_wire_names=False)
        )
        return HttpResponse(200, _headers(request_id), cbor2.dumps(doc))

    def error(
        self,
        err: ServiceError,
        info: ServiceInfo | None,
        operation: str | None,
        request_id: str,
    ) -> HttpResponse:
        body = cbor2.dumps({"__type": err.code, "message": err.message})
        return HttpResponse(
            err.status, [*_headers(request_id), *query_error_header(err, info)], body
        )
