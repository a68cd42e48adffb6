"""AWS Security Token Service."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.sts import access, ops
from dockyard.services.sts.service import Sts

__all__ = ["Sts", "provider"]


def provider(sts: Sts) -> Provider:
    return Provider(
        service="sts",
        handlers=ops.handlers(sts),
        validation_error_code="ValidationError",
        access=access.access,
        self_authorized=access.SELF_AUTHORIZED,
    )
