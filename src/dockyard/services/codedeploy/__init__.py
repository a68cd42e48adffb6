"""CodeDeploy: blue/green deployments of ECS services through their load balancers."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.codedeploy import access, ops_deployments, ops_groups
from dockyard.services.codedeploy.service import CodeDeploy

__all__ = ["CodeDeploy", "provider"]


def provider(cd: CodeDeploy) -> Provider:
    handlers: dict[str, Handler] = {}
    for module in (ops_groups, ops_deployments):
        handlers.update(module.handlers(cd))
    return Provider(
        service="codedeploy",
        handlers=handlers,
        validation_error_code="InvalidInputException",
        reset=cd.reset,
        access=access.ACCESS,
    )
