"""SSM Parameter Store: parameters (store kind `ssm.parameter`), and what ECS reads of them.

`Ssm(store, clock)`; call `load()` once at start.
"""

from __future__ import annotations

from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.ssm.errors import ParameterNotFound, ParameterVersionNotFound
from dockyard.services.ssm.parameters import Parameters
from dockyard.store.base import Store


class Ssm:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.parameters = Parameters(store, clock)

    def load(self) -> None:
        self.parameters.load()

    def reset(self) -> None:
        self.parameters.reset()

    def value(self, account_id: str, region: str, reference: str) -> str | None:
        """The decrypted value of a parameter (name, ARN, `name:version` or `name:label`) of
        an account and region; None when there is no such parameter or version."""
        try:
            _, version, _ = self.parameters.select(Scope(account_id, region), reference)
        except (ParameterNotFound, ParameterVersionNotFound):
            return None
        return version.value
