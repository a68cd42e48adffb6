"""AWS IAM: users, groups, roles, policies, access keys, instance profiles.

`Iam(store, clock)`; call `load()` once at start. It is also what the front door and STS
reach through `core.principals`: a `KeyDirectory` (users' access keys), a `PolicySource`
(the identity-based policies of a user or an assumed role) and a `RoleDirectory`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.iampolicy import Policy, PolicyError, PolicyKind, parse_policy
from dockyard.core.principals import (
    Permissions,
    Principal,
    PrincipalKind,
    RoleInfo,
    SigningKey,
)
from dockyard.services.iam.identities import Identities
from dockyard.services.iam.model import Attachable, KeyStatus
from dockyard.services.iam.policies import Policies
from dockyard.services.iam.state import IamState, Table
from dockyard.store.base import Store


@lru_cache(maxsize=4096)
def compiled(text: str, kind: PolicyKind, source: str) -> Policy | None:
    """A stored document, parsed once (None: one that no longer parses: it grants nothing)."""
    try:
        return parse_policy(text, kind, source=source)
    except PolicyError:
        return None


class Iam:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.state = IamState(store, clock)
        self.identities = Identities(self.state)
        self.policies = Policies(self.state)

    def load(self) -> None:
        self.state.load()

    def reset(self) -> None:
        self.state.reset()

    def arn_of(self, account_id: str, kind: str, name: str) -> str | None:
        """The ARN of an existing user, group, role or instance profile."""
        tables: dict[str, Table[Any]] = {
            "user": self.state.users,
            "group": self.state.groups,
            "role": self.state.roles,
            "instance-profile": self.state.profiles,
        }
        table = tables.get(kind)
        found = table.find(account_id, name) if table is not None else None
        return str(found.arn) if found is not None else None

    # -- PolicySource ------------------------------------------------------------------------

    def entity_policies(self, account: str, entity: Attachable) -> list[Policy]:
        out: list[Policy] = []
        for name, text in sorted(entity.inline.items()):
            policy = compiled(text, PolicyKind.IDENTITY, name)
            if policy is not None:
                out.append(policy)
        for arn in entity.attached:
            managed = self.policies.find(account, arn)
            if managed is not None:
                policy = compiled(managed.document, PolicyKind.IDENTITY, arn)
                if policy is not None:
                    out.append(policy)
        return out

    def user_policies(self, account: str, name: str) -> tuple[list[Policy], dict[str, str]] | None:
        user = self.state.users.find(account, name)
        if user is None:
            return None
        policies = self.entity_policies(account, user)
        for group in self.state.groups.all(account):
            if user.name in group.members:
                policies += self.entity_policies(account, group)
        return policies, dict(user.tags)

    def role_policies(self, account: str, name: str) -> tuple[list[Policy], dict[str, str]] | None:
        role = self.state.roles.find(account, name)
        if role is None:
            return None
        return self.entity_policies(account, role), dict(role.tags)

    def permissions(self, principal: Principal) -> Permissions:
        if principal.kind is PrincipalKind.USER:
            found = self.user_policies(principal.account_id, principal.name)
        elif principal.kind is PrincipalKind.ASSUMED_ROLE:
            found = self.role_policies(principal.account_id, principal.name)
            # A role deleted and created again under the same name is another role.
            role = self.state.roles.find(principal.account_id, principal.name)
            if role is None or not principal.user_id.startswith(role.id):
                found = None
        else:
            return Permissions()
        if found is None:
            return Permissions()
        policies, tags = found
        session = None
        if principal.session_policy:
            parsed = compiled(principal.session_policy, PolicyKind.IDENTITY, "session policy")
            session = [parsed] if parsed is not None else []
        return Permissions(policies, self.boundary_of(principal), session, tags)

    def boundary_of(self, principal: Principal) -> list[Policy] | None:
        """The permissions boundary of a user or an assumed role, if it has one."""
        if principal.kind is PrincipalKind.USER:
            entity: Attachable | None = self.state.users.find(principal.account_id, principal.name)
        else:
            entity = self.state.roles.find(principal.account_id, principal.name)
        if entity is None or entity.boundary is None:
            return None
        managed = self.policies.find(principal.account_id, entity.boundary)
        if managed is None:
            return []
        parsed = compiled(managed.document, PolicyKind.IDENTITY, entity.boundary)
        return [parsed] if parsed is not None else []

    # -- RoleDirectory -----------------------------------------------------------------------

    def role(self, account_id: str, role_arn: str) -> RoleInfo | None:
        name = role_arn.rpartition("/")[2]
        role = self.state.roles.find(account_id, name)
        if role is None or role.arn != role_arn:
            return None
        trust = compiled(role.trust, PolicyKind.TRUST, role.arn)
        if trust is None:
            return None
        return RoleInfo(account_id, role.arn, role.id, role.name, trust, role.max_session_duration)

    # -- KeyDirectory ------------------------------------------------------------------------

    def signing_key(
        self, access_key_id: str, session_token: str | None, now: float
    ) -> SigningKey | None:
        key = self.state.key_index.get(access_key_id)
        if key is None or key.status != KeyStatus.ACTIVE:
            return None
        user = self.state.users.find(key.account_id, key.user_name)
        if user is None:
            return None
        principal = Principal(
            account_id=key.account_id,
            kind=PrincipalKind.USER,
            arn=user.arn,
            user_id=user.id,
            name=user.name,
            access_key_id=access_key_id,
        )
        return SigningKey(key.secret, principal)
