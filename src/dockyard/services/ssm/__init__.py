"""AWS Systems Manager Parameter Store (the parameter operations of `ssm`)."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.ssm import access, ops_parameters
from dockyard.services.ssm.parameters import KIND
from dockyard.services.ssm.service import Ssm

__all__ = ["KIND", "Ssm", "provider"]


def provider(ssm: Ssm) -> Provider:
    return Provider(
        service="ssm",
        handlers=ops_parameters.handlers(ssm.parameters),
        validation_error_code="ValidationException",
        reset=ssm.reset,
        access=access.access(ssm.parameters),
    )
