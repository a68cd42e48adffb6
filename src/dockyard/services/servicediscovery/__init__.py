"""AWS Cloud Map (servicediscovery): namespaces, services and instances, whose private DNS
namespaces Dockyard's DNS server really answers for."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.servicediscovery import access, ops_instances, ops_namespaces, ops_services
from dockyard.services.servicediscovery.service import CloudMap

__all__ = ["CloudMap", "provider"]


def provider(cloud_map: CloudMap) -> Provider:
    handlers: dict[str, Handler] = {}
    for module in (ops_namespaces, ops_services, ops_instances):
        handlers.update(module.handlers(cloud_map))
    return Provider(
        service="servicediscovery",
        handlers=handlers,
        validation_error_code="InvalidInput",
        reset=cloud_map.reset,
        action_prefix="servicediscovery",
        access=access.ACCESS,
    )
