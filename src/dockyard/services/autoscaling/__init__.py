"""Application Auto Scaling for ECS services: targets, step and target tracking policies,
scheduled actions, scaling activities."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.autoscaling import access, ops
from dockyard.services.autoscaling.service import AutoScaling

__all__ = ["AutoScaling", "provider"]


def provider(aas: AutoScaling) -> Provider:
    return Provider(service="application-autoscaling", handlers=ops.handlers(aas),
                    validation_error_code="ValidationException", reset=aas.reset,
                    access=access.ACCESS)  # fmt: skip
