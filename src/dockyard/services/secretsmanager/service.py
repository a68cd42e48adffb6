"""AWS Secrets Manager: secrets and their versions (store kind `secretsmanager.secret`), and
what ECS reads of them.

`SecretsManager(store, clock)`; call `load()` once at start.
"""

from __future__ import annotations

from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.secretsmanager.vault import Vault
from dockyard.store.base import Store


class SecretsManager:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.vault = Vault(store, clock)

    def load(self) -> None:
        self.vault.load()

    def reset(self) -> None:
        self.vault.reset()

    def value(
        self,
        account_id: str,
        region: str,
        secret_id: str,
        version_stage: str | None = None,
        version_id: str | None = None,
    ) -> str | bytes:
        """A secret's value as GetSecretValue reads it (SecretString, else SecretBinary).
        Raises the ServiceError GetSecretValue would answer."""
        vault = self.vault
        secret = vault.get(Scope(account_id, region), secret_id)
        version = vault.read(secret, version_id, version_stage)
        if version.string is not None:
            return version.string
        return version.binary_bytes() or b""


__all__ = ["SecretsManager", "ServiceError"]
