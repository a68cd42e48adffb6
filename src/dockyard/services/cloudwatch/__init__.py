"""Amazon CloudWatch: metrics, metric math, metric and composite alarms."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.cloudwatch import access, ops_alarms, ops_metrics
from dockyard.services.cloudwatch.service import CloudWatch

__all__ = ["CloudWatch", "provider"]


def provider(cw: CloudWatch) -> Provider:
    handlers: dict[str, Handler] = {}
    for module in (ops_metrics, ops_alarms):
        handlers.update(module.handlers(cw))
    return Provider(
        service="cloudwatch",
        handlers=handlers,
        validation_error_code="InvalidParameterValue",
        reset=cw.reset,
        access=access.access(cw),
    )
