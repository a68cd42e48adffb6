"""Durable state: the `Store` protocol and its implementations."""

from dockyard.store.base import Store, StoreError, StoreUnavailable
from dockyard.store.select import open_store
from dockyard.store.sqlite import SqliteStore

__all__ = ["SqliteStore", "Store", "StoreError", "StoreUnavailable", "open_store"]
