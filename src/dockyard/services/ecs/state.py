"""The ECS service object: every ECS domain of every account and region.

Each domain (clusters, task definitions, container instances, tasks) keeps its objects in
memory, keyed by ARN, and writes them through to the store in the same step that changes
them. Objects carry their account and region in their ARNs.
"""

from __future__ import annotations

from dockyard.core.clock import Clock
from dockyard.store.base import Store


class EcsDomain:
    """Base for ECS domains: access to the store and the clock."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def load(self) -> None:
        """Reload this domain's objects from the store (at start)."""

    def reset(self) -> None:
        """Forget everything (the store has been wiped)."""
