"""Durable state: the `Store` protocol and its implementations."""

from dockyard.store.base import Store
from dockyard.store.sqlite import SqliteStore

__all__ = ["SqliteStore", "Store"]
