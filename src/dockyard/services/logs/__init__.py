"""Amazon CloudWatch Logs."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.logs import access, ops_exports, ops_groups, ops_streams
from dockyard.services.logs.exports import Exports
from dockyard.services.logs.service import Logs

__all__ = ["Exports", "Logs", "provider"]


def provider(logs: Logs, exports: Exports | None = None) -> Provider:
    handlers: dict[str, Handler] = {}
    for module in (ops_groups, ops_streams):
        handlers.update(module.handlers(logs))
    if exports is not None:  # export tasks need an S3 to write to
        handlers.update(ops_exports.handlers(logs, exports))

    def reset() -> None:
        logs.reset()
        if exports is not None:
            exports.reset()

    return Provider(
        service="logs",
        handlers=handlers,
        validation_error_code="InvalidParameterException",
        reset=reset,
        access=access.access(logs.directory),
    )
