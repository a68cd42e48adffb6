"""What every protocol offers the front door."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from botocore.model import OperationModel

from dockyard.api.http import HttpRequest, HttpResponse
from dockyard.api.models import ServiceInfo
from dockyard.api.router import Route
from dockyard.core.errors import ServiceError


class Codec(Protocol):
    name: str

    def parse(self, req: HttpRequest, op: OperationModel, route: Route) -> dict[str, Any]:
        """The request's input as a dict shaped like the operation's input shape."""

    def serialize(
        self, op: OperationModel, result: Mapping[str, Any], info: ServiceInfo, request_id: str
    ) -> HttpResponse:
        """The handler's output dict as this protocol's HTTP response."""

    def error(
        self,
        err: ServiceError,
        info: ServiceInfo | None,
        operation: str | None,
        request_id: str,
    ) -> HttpResponse:
        """An AWS error in this protocol's format."""


def base_headers(request_id: str, content_type: str) -> list[tuple[str, str]]:
    return [("x-amzn-RequestId", request_id), ("Content-Type", content_type)]


def query_error_header(err: ServiceError, info: ServiceInfo | None) -> list[tuple[str, str]]:
    if info is not None and info.query_compatible:
        fault = "Sender" if err.sender_fault else "Receiver"
        return [("x-amzn-query-error", f"{err.query_code or err.code};{fault}")]
    return []
