"""Managed policies (and their versions), inline policies, and attachments."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dockyard.core.iampolicy import PolicyKind
from dockyard.services.iam import validation
from dockyard.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
)
from dockyard.services.iam.managed import aws_managed
from dockyard.services.iam.model import Attachable, ManagedPolicy, PolicyVersion
from dockyard.services.iam.state import IamState, Table, new_id

MAX_VERSIONS = 5
MAX_ATTACHED = 10
INLINE_MAX = {"user": validation.USER_INLINE_MAX, "group": validation.GROUP_INLINE_MAX,
              "role": validation.ROLE_INLINE_MAX}  # fmt: skip


class Policies:
    def __init__(self, state: IamState) -> None:
        self.state = state
        self.aws = {p.arn: p for p in aws_managed()}

    @property
    def now(self) -> float:
        return self.state.clock.now()

    def table(self, kind: str) -> Table[Any]:
        tables: dict[str, Table[Any]] = {
            "user": self.state.users,
            "group": self.state.groups,
            "role": self.state.roles,
        }
        return tables[kind]

    # -- managed policies ------------------------------------------------------------------

    def find(self, account: str, arn: str) -> ManagedPolicy | None:
        if arn in self.aws:
            return self.aws[arn]
        prefix = f"arn:aws:iam::{account}:policy/"
        if not arn.startswith(prefix):
            return None
        found = self.state.policies.find(account, arn.rpartition("/")[2])
        return found if found is not None and found.arn == arn else None

    def get(self, account: str, arn: str) -> ManagedPolicy:
        if not arn.startswith("arn:aws:iam::"):
            raise InvalidInput(f"ARN {arn} is not valid.")
        found = self.find(account, arn)
        if found is None:
            raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")
        return found

    def all(self, account: str, scope: str = "All") -> list[ManagedPolicy]:
        local = self.state.policies.all(account)
        if scope == "Local":
            return local
        if scope == "AWS":
            return list(self.aws.values())
        return [*self.aws.values(), *local]

    def create(
        self, account: str, name: str, path: str | None, document: str, description: str | None,
        tags: dict[str, str],
    ) -> ManagedPolicy:  # fmt: skip
        s = self.state
        validation.name(name, "policyName")
        validation.document(document, PolicyKind.IDENTITY, validation.MANAGED_MAX)
        if s.policies.find(account, name) is not None:
            raise EntityAlreadyExists(
                f"A policy called {name} already exists. Duplicate names are not allowed."
            )
        now = self.now
        policy = ManagedPolicy(
            account, name, validation.path(path), new_id("ANPA"), now, now,
            versions=[PolicyVersion("v1", document, now)], description=description, tags=tags,
        )  # fmt: skip
        s.commit([(s.policies, account, name, policy)])
        return policy

    def attachments(self, account: str, arn: str) -> list[tuple[str, Attachable]]:
        out: list[tuple[str, Attachable]] = []
        for kind in ("user", "group", "role"):
            out += [(kind, e) for e in self.table(kind).all(account) if arn in e.attached]
        return out

    def boundary_uses(self, account: str, arn: str) -> int:
        """How many users and roles have `arn` as their permissions boundary."""
        entities = [*self.state.users.all(account), *self.state.roles.all(account)]
        return sum(1 for e in entities if e.boundary == arn)

    def delete(self, account: str, arn: str) -> None:
        policy = self.local(account, arn)
        if self.attachments(account, arn) or self.boundary_uses(account, arn):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        if len(policy.versions) > 1:
            raise DeleteConflict(
                "Cannot delete a policy with non-default versions. Delete them first."
            )
        self.state.commit(deletes=[(self.state.policies, account, policy.name)])

    def local(self, account: str, arn: str) -> ManagedPolicy:
        policy = self.get(account, arn)
        if policy.account_id == "aws":
            raise InvalidInput(f"Policy {arn} is an AWS managed policy: it cannot be changed.")
        return policy

    def create_version(self, account: str, arn: str, document: str, default: bool) -> PolicyVersion:
        policy = self.local(account, arn)
        validation.document(document, PolicyKind.IDENTITY, validation.MANAGED_MAX)
        if len(policy.versions) >= MAX_VERSIONS:
            raise LimitExceeded(
                f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create a "
                "new version, you must delete an existing version."
            )
        version = PolicyVersion(f"v{policy.next_version}", document, self.now)
        changed = replace(
            policy,
            versions=[*policy.versions, version],
            next_version=policy.next_version + 1,
            default_version=version.version_id if default else policy.default_version,
            updated=self.now,
        )
        self.state.commit([(self.state.policies, account, policy.name, changed)])
        return version

    def version(
        self, account: str, arn: str, version_id: str
    ) -> tuple[ManagedPolicy, PolicyVersion]:
        policy = self.get(account, arn)
        for v in policy.versions:
            if v.version_id == version_id:
                return policy, v
        raise NoSuchEntity(
            f"Policy {arn} version {version_id} does not exist or is not attachable."
        )

    def delete_version(self, account: str, arn: str, version_id: str) -> None:
        policy = self.local(account, arn)
        self.version(account, arn, version_id)
        if version_id == policy.default_version:
            raise DeleteConflict("Cannot delete the default version of a policy.")
        versions = [v for v in policy.versions if v.version_id != version_id]
        self.state.commit(
            [(self.state.policies, account, policy.name, replace(policy, versions=versions))]
        )

    def set_default(self, account: str, arn: str, version_id: str) -> None:
        policy = self.local(account, arn)
        self.version(account, arn, version_id)
        changed = replace(policy, default_version=version_id, updated=self.now)
        self.state.commit([(self.state.policies, account, policy.name, changed)])

    # -- attachments -----------------------------------------------------------------------

    def attach(self, account: str, kind: str, name: str, arn: str) -> None:
        table = self.table(kind)
        entity = table.get(account, name)
        self.get(account, arn)
        if arn in entity.attached:
            return
        if len(entity.attached) >= MAX_ATTACHED:
            raise LimitExceeded(
                f"Cannot exceed quota for PoliciesPerUser: {MAX_ATTACHED}"
                if kind == "user"
                else f"Cannot exceed quota for PoliciesPer{kind.capitalize()}: {MAX_ATTACHED}"
            )
        changed = replace(entity, attached=[*entity.attached, arn])
        self.state.commit([(table, account, entity.name, changed)])

    def detach(self, account: str, kind: str, name: str, arn: str) -> None:
        table = self.table(kind)
        entity = table.get(account, name)
        if arn not in entity.attached:
            raise NoSuchEntity(f"Policy {arn} was not found.")
        changed = replace(entity, attached=[a for a in entity.attached if a != arn])
        self.state.commit([(table, account, entity.name, changed)])

    # -- inline policies -------------------------------------------------------------------

    def put_inline(
        self, account: str, kind: str, name: str, policy_name: str, document: str
    ) -> None:
        table = self.table(kind)
        entity = table.get(account, name)
        validation.name(policy_name, "policyName")
        validation.document(document, PolicyKind.IDENTITY, INLINE_MAX[kind])
        changed = replace(entity, inline={**entity.inline, policy_name: document})
        self.state.commit([(table, account, entity.name, changed)])

    def get_inline(self, account: str, kind: str, name: str, policy_name: str) -> tuple[str, str]:
        entity = self.table(kind).get(account, name)
        document = entity.inline.get(policy_name)
        if document is None:
            raise NoSuchEntity(f"The {kind} policy with name {policy_name} cannot be found.")
        return entity.name, document

    def delete_inline(self, account: str, kind: str, name: str, policy_name: str) -> None:
        table = self.table(kind)
        entity = table.get(account, name)
        self.get_inline(account, kind, name, policy_name)
        inline = {k: v for k, v in entity.inline.items() if k != policy_name}
        self.state.commit([(table, account, entity.name, replace(entity, inline=inline))])
