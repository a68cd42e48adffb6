"""Undoing an in-memory change that the store refused.

The unit of work builds new records, commits them, then applies them to memory. Some domain
paths still change a record in place before they save it (`service.desired_count = 3`,
then `save(service)`); for those, a refused commit must not leave the change in memory.
`rollback(...)` wraps the write: when the store raises `StoreUnavailable`, the record is put
back, in place, as the store last committed it (`Store.committed`, answered without I/O, so
this works while the database is down), and the error goes on to the client as a 503.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from dockyard.store.base import Store, StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


def _state(record: object) -> dict[str, Any]:
    if dataclasses.is_dataclass(record):
        return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return dict(vars(record))


def restore(record: T, committed: T, round_trip: T) -> None:
    """Give `record` the values of `committed`, field by field, except the fields that are
    not stored (those where `record` and its own stored form `round_trip` differ)."""
    current, stored, wanted = _state(record), _state(round_trip), _state(committed)
    for name, value in wanted.items():
        if current.get(name) == stored.get(name):
            object.__setattr__(record, name, value)


@contextmanager
def rollback(
    store: Store,
    kind: str,
    key: str,
    record: T,
    build: Callable[[dict[str, Any]], T],
    to_dict: Callable[[T], dict[str, Any]],
) -> Iterator[None]:
    """Run the write in the `with` block; if the store refuses it, put `record` back as last
    committed under (kind, key) and re-raise. A record never committed is left alone: the
    caller has not put it in memory yet."""
    try:
        yield
    except StoreUnavailable:
        body = store.committed(kind, key)
        if body is not None:
            try:
                restore(record, build(body), build(to_dict(record)))
            except Exception:  # a record we cannot rebuild: say so, the 503 still goes out
                log.exception("cannot roll back %s %s after a refused write", kind, key)
        raise


class Record(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Record)


def put_record(
    store: Store, kind: str, key: str, record: R, build: Callable[[dict[str, Any]], R]
) -> None:
    """`store.put(kind, key, record.to_dict())`; if the store refuses it, `record` (perhaps
    changed in place by the caller) is rolled back to its committed state first."""
    with rollback(store, kind, key, record, build, lambda r: r.to_dict()):
        store.put(kind, key, record.to_dict())
