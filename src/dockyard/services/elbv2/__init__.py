"""Elastic Load Balancing v2: application and network load balancers that really route."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.elbv2 import access, ops_balancers, ops_groups, ops_listeners
from dockyard.services.elbv2.service import Elbv2

__all__ = ["Elbv2", "provider"]


def provider(elb: Elbv2) -> Provider:
    handlers: dict[str, Handler] = {}
    for module in (ops_balancers, ops_groups, ops_listeners):
        handlers.update(module.handlers(elb))
    return Provider(
        service="elbv2",
        handlers=handlers,
        validation_error_code="ValidationError",
        reset=elb.reset,
        action_prefix="elasticloadbalancing",
        access=access.access(elb),
    )
