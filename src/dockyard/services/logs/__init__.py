"""Amazon CloudWatch Logs."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.logs import access, ops_groups, ops_streams
from dockyard.services.logs.service import Logs

__all__ = ["Logs", "provider"]


def provider(logs: Logs) -> Provider:
    handlers: dict[str, Handler] = {}
    for module in (ops_groups, ops_streams):
        handlers.update(module.handlers(logs))
    return Provider(
        service="logs",
        handlers=handlers,
        validation_error_code="InvalidParameterException",
        reset=logs.reset,
        access=access.access(logs.directory),
    )
