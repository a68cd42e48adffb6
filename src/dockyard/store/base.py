"""The `Store` protocol.

State lives in memory, in the services' domain objects, and is written through here in the
same step that changes it. A record is a JSON document under a (kind, key) pair; kinds are
named by the owning service (`ecs.cluster`, `logs.group`, ...) and keys are usually ARNs, so
they carry the account and region.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol


class StoreError(RuntimeError):
    """A store cannot be used: unreachable, a schema newer than ours, a URL we do not know.
    The message says which store (never its password) and what to do."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""


class Store(Protocol):
    def put(self, kind: str, key: str, value: dict[str, Any]) -> None: ...

    def delete(self, kind: str, key: str) -> None: ...

    def get(self, kind: str, key: str) -> dict[str, Any] | None: ...

    def load(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every record of a kind, in key order."""
        ...

    def reset(self) -> None:
        """Remove every record (the `/_dockyard/reset` endpoint)."""
        ...

    def close(self) -> None: ...
