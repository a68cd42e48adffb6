"""Users, groups, roles, access keys and instance profiles."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from dockyard.core.iampolicy import PolicyKind
from dockyard.services.iam import validation
from dockyard.services.iam.errors import (
    DeleteConflict,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    UnmodifiableEntity,
)
from dockyard.services.iam.managed import SERVICE_LINKED
from dockyard.services.iam.model import AccessKey, Group, InstanceProfile, KeyStatus, Role, User
from dockyard.services.iam.state import IamState, Table, new_id

MAX_KEYS_PER_USER = 2


class Identities:
    def __init__(self, state: IamState) -> None:
        self.state = state

    @property
    def now(self) -> float:
        return self.state.clock.now()

    # -- users -----------------------------------------------------------------------------

    def create_user(
        self,
        account: str,
        name: str,
        path: str | None,
        tags: dict[str, str],
        boundary: str | None = None,
    ) -> User:
        s = self.state
        validation.name(name)
        s.users.absent(account, name)
        user = User(
            account, name, validation.path(path), new_id("AIDA"), self.now, tags=tags,
            boundary=boundary,
        )  # fmt: skip
        s.commit([(s.users, account, name, user)])
        return user

    def update_user(
        self, account: str, name: str, new_name: str | None, new_path: str | None
    ) -> None:
        s = self.state
        user = s.users.get(account, name)
        if new_name and new_name.lower() != name.lower():
            s.users.absent(account, new_name)
        renamed = replace(
            user, name=new_name or user.name, path=validation.path(new_path or user.path)
        )
        puts: list[tuple[Table[Any], str, str, Any]] = [(s.users, account, renamed.name, renamed)]
        for group in s.groups.all(account):
            if user.name in group.members:
                members = [renamed.name if m == user.name else m for m in group.members]
                puts.append((s.groups, account, group.name, replace(group, members=members)))
        keys = [k for k in s.keys.all(account) if k.user_name == user.name]
        puts += [(s.keys, account, k.key_id, replace(k, user_name=renamed.name)) for k in keys]
        deletes = [(s.users, account, name)] if renamed.name.lower() != name.lower() else []
        s.commit(puts, deletes)

    def delete_user(self, account: str, name: str) -> None:
        s = self.state
        user = s.users.get(account, name)
        if any(k.user_name == user.name for k in s.keys.all(account)):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if user.inline:
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if user.attached:
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if any(user.name in g.members for g in s.groups.all(account)):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        s.commit(deletes=[(s.users, account, name)])

    # -- access keys -------------------------------------------------------------------------

    def create_access_key(self, account: str, user_name: str) -> AccessKey:
        s = self.state
        user = s.users.get(account, user_name)
        owned = [k for k in s.keys.all(account) if k.user_name == user.name]
        if len(owned) >= MAX_KEYS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
        key_id = new_id("AKIA")
        while key_id in s.key_index:
            key_id = new_id("AKIA")
        secret = secrets.token_urlsafe(30)[:40]
        key = AccessKey(account, user.name, key_id, secret, KeyStatus.ACTIVE, self.now)
        s.commit([(s.keys, account, key_id, key)])
        return key

    def owned_key(self, account: str, user_name: str, key_id: str) -> AccessKey:
        key = self.state.keys.find(account, key_id)
        if key is None or key.user_name.lower() != user_name.lower():
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        return key

    def update_access_key(self, account: str, user_name: str, key_id: str, status: str) -> None:
        s = self.state
        key = self.owned_key(account, user_name, key_id)
        s.commit([(s.keys, account, key_id, replace(key, status=status))])

    def delete_access_key(self, account: str, user_name: str, key_id: str) -> None:
        s = self.state
        self.owned_key(account, user_name, key_id)
        s.commit(deletes=[(s.keys, account, key_id)])

    def user_keys(self, account: str, user_name: str) -> list[AccessKey]:
        user = self.state.users.get(account, user_name)
        keys = [k for k in self.state.keys.all(account) if k.user_name == user.name]
        return sorted(keys, key=lambda k: k.created)

    # -- groups ------------------------------------------------------------------------------

    def create_group(self, account: str, name: str, path: str | None) -> Group:
        s = self.state
        validation.name(name, "groupName")
        s.groups.absent(account, name)
        group = Group(account, name, validation.path(path), new_id("AGPA"), self.now)
        s.commit([(s.groups, account, name, group)])
        return group

    def delete_group(self, account: str, name: str) -> None:
        s = self.state
        group = s.groups.get(account, name)
        if group.members:
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if group.inline:
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if group.attached:
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        s.commit(deletes=[(s.groups, account, name)])

    def add_user_to_group(self, account: str, group_name: str, user_name: str) -> None:
        s = self.state
        group = s.groups.get(account, group_name)
        user = s.users.get(account, user_name)
        if user.name in group.members:
            return
        s.commit(
            [(s.groups, account, group.name, replace(group, members=[*group.members, user.name]))]
        )

    def remove_user_from_group(self, account: str, group_name: str, user_name: str) -> None:
        s = self.state
        group = s.groups.get(account, group_name)
        user = s.users.get(account, user_name)
        if user.name not in group.members:
            raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
        members = [m for m in group.members if m != user.name]
        s.commit([(s.groups, account, group.name, replace(group, members=members))])

    def groups_of(self, account: str, user_name: str) -> list[Group]:
        user = self.state.users.get(account, user_name)
        return [g for g in self.state.groups.all(account) if user.name in g.members]

    # -- roles -------------------------------------------------------------------------------

    def create_role(
        self,
        account: str,
        name: str,
        path: str | None,
        trust: str,
        description: str | None,
        max_session: int | None,
        tags: dict[str, str],
        boundary: str | None = None,
    ) -> Role:
        s = self.state
        validation.name(name, "roleName")
        validation.document(trust, PolicyKind.TRUST, validation.TRUST_MAX)
        s.roles.absent(account, name)
        role = Role(
            account, name, validation.path(path), new_id("AROA"), self.now, tags=tags,
            trust=trust, description=description, max_session_duration=max_session or 3600,
            boundary=boundary,
        )  # fmt: skip
        s.commit([(s.roles, account, name, role)])
        return role

    def create_service_linked_role(
        self, account: str, service: str, description: str | None, suffix: str | None
    ) -> Role:
        known = SERVICE_LINKED.get(service)
        if known is None:
            raise InvalidInput(f"Service role name for {service} is not known to Dockyard.")
        name = known[0] + (f"_{suffix}" if suffix else "")
        trust = (
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
            f'{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}'
        )
        s = self.state
        if s.roles.find(account, name) is not None:
            raise InvalidInput(
                f"Service role name {name} has been taken in this account, please try a "
                "different suffix."
            )
        role = Role(
            account, name, f"/aws-service-role/{service}/", new_id("AROA"), self.now,
            trust=trust, description=description,
        )  # fmt: skip
        if known[1]:
            role.attached.append(f"arn:aws:iam::aws:policy/aws-service-role/{known[1]}")
        s.commit([(s.roles, account, name, role)])
        return role

    def update_role(
        self, account: str, name: str, description: str | None, max_session: int | None
    ) -> None:
        s = self.state
        role = s.roles.get(account, name)
        changed = replace(
            role,
            description=role.description if description is None else description,
            max_session_duration=max_session or role.max_session_duration,
        )
        s.commit([(s.roles, account, role.name, changed)])

    def update_trust(self, account: str, name: str, trust: str) -> None:
        s = self.state
        role = s.roles.get(account, name)
        if role.path.startswith("/aws-service-role/"):
            raise UnmodifiableEntity(
                f"Cannot perform the operation on the protected role '{role.name}' - this role "
                "is only modifiable by AWS"
            )
        validation.document(trust, PolicyKind.TRUST, validation.TRUST_MAX)
        s.commit([(s.roles, account, role.name, replace(role, trust=trust))])

    def delete_role(self, account: str, name: str) -> None:
        s = self.state
        role = s.roles.get(account, name)
        if role.inline:
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if role.attached and not role.path.startswith("/aws-service-role/"):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if any(role.name in p.roles for p in s.profiles.all(account)):
            raise DeleteConflict(
                "Cannot delete entity, must remove roles from instance profile first."
            )
        s.commit(deletes=[(s.roles, account, name)])

    # -- instance profiles -------------------------------------------------------------------

    def create_instance_profile(
        self, account: str, name: str, path: str | None, tags: dict[str, str]
    ) -> InstanceProfile:
        s = self.state
        validation.name(name, "instanceProfileName")
        s.profiles.absent(account, name, "Instance Profile")
        profile = InstanceProfile(
            account, name, validation.path(path), new_id("AIPA"), self.now, tags=tags
        )
        s.commit([(s.profiles, account, name, profile)])
        return profile

    def delete_instance_profile(self, account: str, name: str) -> None:
        s = self.state
        profile = s.profiles.get(account, name)
        if profile.roles:
            raise DeleteConflict(
                "Cannot delete entity, must remove roles from instance profile first."
            )
        s.commit(deletes=[(s.profiles, account, name)])

    def add_role_to_profile(self, account: str, name: str, role_name: str) -> None:
        s = self.state
        profile = s.profiles.get(account, name)
        role = s.roles.get(account, role_name)
        if profile.roles:
            raise LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        s.commit([(s.profiles, account, profile.name, replace(profile, roles=[role.name]))])

    def remove_role_from_profile(self, account: str, name: str, role_name: str) -> None:
        s = self.state
        profile = s.profiles.get(account, name)
        if role_name not in profile.roles:
            raise NoSuchEntity(f"The role with name {role_name} cannot be found.")
        s.commit([(s.profiles, account, profile.name, replace(profile, roles=[]))])
