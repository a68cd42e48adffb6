"""AWS Secrets Manager."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.secretsmanager import access, ops_secrets
from dockyard.services.secretsmanager.service import SecretsManager
from dockyard.services.secretsmanager.vault import KIND

__all__ = ["KIND", "SecretsManager", "provider"]


def provider(manager: SecretsManager) -> Provider:
    return Provider(
        service="secretsmanager",
        handlers=ops_secrets.handlers(manager.vault),
        validation_error_code="ValidationException",
        reset=manager.reset,
        access=access.access(manager.vault),
    )
