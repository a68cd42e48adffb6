"""The EC2 records in memory (networking records, launch templates), written through to the
store in one transaction per change (commit first, then memory)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import TypeVar

from dockyard.core.scope import Scope
from dockyard.services.ec2.network.model import RECORDS, Resource, Vpc
from dockyard.store.base import Store

# Scopes whose default VPC was made (a record each, so a deleted default VPC stays deleted).
DEFAULTS_KIND = "ec2.defaults"

R = TypeVar("R", bound=Resource)


def key_of(record: Resource) -> str:
    return record.scope.key(record.id)


def editable(record: R) -> R:
    """A copy to change and commit; memory keeps the committed one until then."""
    return copy.deepcopy(record)


class Records:
    def __init__(self, store: Store, kinds: Sequence[type[Resource]] = RECORDS) -> None:
        self.store = store
        self.kinds = tuple(kinds)
        self.by_scope: dict[Scope, dict[str, Resource]] = {}
        self.seeded: set[Scope] = set()

    def load(self) -> None:
        self.reset()
        for cls in self.kinds:
            for _key, body in self.store.load(cls.KIND):
                record = cls.from_dict(body)
                self.by_scope.setdefault(record.scope, {})[record.id] = record
        for _key, body in self.store.load(DEFAULTS_KIND):
            self.seeded.add(Scope(body["account_id"], body["region"]))

    def reset(self) -> None:
        self.by_scope.clear()
        self.seeded.clear()

    def commit(
        self,
        puts: Sequence[Resource] = (),
        deletes: Sequence[Resource] = (),
        seeded: Scope | None = None,
    ) -> None:
        """One store transaction; memory changes only once it committed."""
        rows = [(r.KIND, key_of(r), r.to_dict()) for r in puts]
        if seeded is not None:
            body = {"account_id": seeded.account_id, "region": seeded.region}
            rows.append((DEFAULTS_KIND, seeded.key("defaults"), body))
        self.store.write(rows, [(r.KIND, key_of(r)) for r in deletes])
        for record in deletes:
            self.by_scope.get(record.scope, {}).pop(record.id, None)
        for record in puts:
            self.by_scope.setdefault(record.scope, {})[record.id] = record
        if seeded is not None:
            self.seeded.add(seeded)

    def find(self, scope: Scope, resource_id: str, cls: type[R]) -> R | None:
        record = self.by_scope.get(scope, {}).get(resource_id)
        return record if isinstance(record, cls) else None

    def all(self, scope: Scope, cls: type[R]) -> list[R]:
        found = [r for r in self.by_scope.get(scope, {}).values() if isinstance(r, cls)]
        return sorted(found, key=lambda r: r.id)

    def every(self, scope: Scope) -> Iterable[Resource]:
        return list(self.by_scope.get(scope, {}).values())


def default_vpc_id(records: Records, scope: Scope) -> str | None:
    return next((v.id for v in records.all(scope, Vpc) if v.is_default), None)
