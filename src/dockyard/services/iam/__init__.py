"""AWS Identity and Access Management."""

from __future__ import annotations

from dockyard.api.provider import Handler, Provider
from dockyard.services.iam import access, ops_account, ops_identities, ops_policies
from dockyard.services.iam.service import Iam
from dockyard.services.iam.state import SEALED_KINDS

__all__ = ["SEALED_KINDS", "Iam", "provider"]


def provider(iam: Iam) -> Provider:
    handlers: dict[str, Handler] = {}
    for module in (ops_identities, ops_policies, ops_account):
        handlers.update(module.handlers(iam))
    return Provider(
        service="iam",
        handlers=handlers,
        validation_error_code="ValidationError",
        reset=iam.reset,
        access=access.access(iam.arn_of),
    )
