"""User, group, role, access key and instance profile operations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from dockyard.api.context import RequestContext
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.iam import validation, wire
from dockyard.services.iam.errors import NoSuchEntity, ValidationError
from dockyard.services.iam.service import Iam
from dockyard.services.iam.state import Table

T = TypeVar("T")
DEFAULT_ITEMS = 100


def paged(items: Sequence[T], p: Params, key: str, shape: Callable[[T], Result]) -> Result:
    """IAM's Marker/MaxItems paging: the marker is the position of the next item."""
    marker = p.get("Marker")
    start = 0
    if marker is not None:
        if not str(marker).isdigit():
            raise ValidationError("Invalid Marker.")
        start = int(marker)
    limit = int(p.get("MaxItems") or DEFAULT_ITEMS)
    chunk = list(items)[start : start + limit]
    out: Result = {key: [shape(i) for i in chunk], "IsTruncated": start + limit < len(items)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + limit)
    return out


def under(path_prefix: str | None, path: str) -> bool:
    return path.startswith(path_prefix or "/")


def handlers(iam: Iam) -> dict[str, Handler]:
    ids = iam.identities
    s = iam.state

    def me(ctx: RequestContext, p: Params) -> str:
        """UserName, defaulting to the calling user (as IAM does for keys and GetUser)."""
        name = p.get("UserName")
        if name:
            return str(name)
        who = ctx.principal
        if who is not None and who.kind == "User":
            return who.name
        raise ValidationError("Must specify userName when calling with non-User credentials")

    def create_user(ctx: RequestContext, p: Params) -> Result:
        boundary = p.get("PermissionsBoundary")
        if boundary:
            iam.policies.get(ctx.account_id, boundary)
        user = ids.create_user(
            ctx.account_id, p["UserName"], p.get("Path"), validation.tags(p.get("Tags")), boundary
        )
        return {"User": wire.user(user)}

    def get_user(ctx: RequestContext, p: Params) -> Result:
        if not p.get("UserName") and ctx.principal is not None and ctx.principal.is_root:
            return {"User": {"Path": "/", "UserName": "", "UserId": ctx.account_id,
                             "Arn": ctx.principal.arn, "CreateDate": wire.when(0)}}  # fmt: skip
        return {"User": wire.user(s.users.get(ctx.account_id, me(ctx, p)))}

    def list_users(ctx: RequestContext, p: Params) -> Result:
        users = sorted(s.users.all(ctx.account_id), key=lambda u: u.name.lower())
        users = [u for u in users if under(p.get("PathPrefix"), u.path)]
        return paged(users, p, "Users", wire.user)

    def update_user(ctx: RequestContext, p: Params) -> Result:
        ids.update_user(ctx.account_id, p["UserName"], p.get("NewUserName"), p.get("NewPath"))
        return {}

    def delete_user(ctx: RequestContext, p: Params) -> Result:
        ids.delete_user(ctx.account_id, p["UserName"])
        return {}

    def create_access_key(ctx: RequestContext, p: Params) -> Result:
        key = ids.create_access_key(ctx.account_id, me(ctx, p))
        return {"AccessKey": wire.access_key(key, secret=True)}

    def list_access_keys(ctx: RequestContext, p: Params) -> Result:
        keys = ids.user_keys(ctx.account_id, me(ctx, p))
        return paged(keys, p, "AccessKeyMetadata", wire.access_key)

    def update_access_key(ctx: RequestContext, p: Params) -> Result:
        ids.update_access_key(ctx.account_id, me(ctx, p), p["AccessKeyId"], p["Status"])
        return {}

    def delete_access_key(ctx: RequestContext, p: Params) -> Result:
        ids.delete_access_key(ctx.account_id, me(ctx, p), p["AccessKeyId"])
        return {}

    def get_access_key_last_used(ctx: RequestContext, p: Params) -> Result:
        key = s.key_index.get(p["AccessKeyId"])
        if key is None or key.account_id != ctx.account_id:
            raise NoSuchEntity(f"The Access Key with id {p['AccessKeyId']} cannot be found.")
        return {"UserName": key.user_name,
                "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}  # fmt: skip

    def create_group(ctx: RequestContext, p: Params) -> Result:
        return {
            "Group": wire.group(ids.create_group(ctx.account_id, p["GroupName"], p.get("Path")))
        }

    def get_group(ctx: RequestContext, p: Params) -> Result:
        group = s.groups.get(ctx.account_id, p["GroupName"])
        users = [u for n in group.members if (u := s.users.find(ctx.account_id, n)) is not None]
        out = paged(users, p, "Users", wire.user)
        out["Group"] = wire.group(group)
        return out

    def list_groups(ctx: RequestContext, p: Params) -> Result:
        groups = sorted(s.groups.all(ctx.account_id), key=lambda g: g.name.lower())
        groups = [g for g in groups if under(p.get("PathPrefix"), g.path)]
        return paged(groups, p, "Groups", wire.group)

    def list_groups_for_user(ctx: RequestContext, p: Params) -> Result:
        return paged(ids.groups_of(ctx.account_id, p["UserName"]), p, "Groups", wire.group)

    def delete_group(ctx: RequestContext, p: Params) -> Result:
        ids.delete_group(ctx.account_id, p["GroupName"])
        return {}

    def add_user_to_group(ctx: RequestContext, p: Params) -> Result:
        ids.add_user_to_group(ctx.account_id, p["GroupName"], p["UserName"])
        return {}

    def remove_user_from_group(ctx: RequestContext, p: Params) -> Result:
        ids.remove_user_from_group(ctx.account_id, p["GroupName"], p["UserName"])
        return {}

    def create_role(ctx: RequestContext, p: Params) -> Result:
        boundary = p.get("PermissionsBoundary")
        if boundary:
            iam.policies.get(ctx.account_id, boundary)
        role = ids.create_role(
            ctx.account_id, p["RoleName"], p.get("Path"), p["AssumeRolePolicyDocument"],
            p.get("Description"), p.get("MaxSessionDuration"), validation.tags(p.get("Tags")),
            boundary,
        )  # fmt: skip
        return {"Role": wire.role(role)}

    def get_role(ctx: RequestContext, p: Params) -> Result:
        return {"Role": wire.role(s.roles.get(ctx.account_id, p["RoleName"]))}

    def list_roles(ctx: RequestContext, p: Params) -> Result:
        roles = sorted(s.roles.all(ctx.account_id), key=lambda r: r.name.lower())
        roles = [r for r in roles if under(p.get("PathPrefix"), r.path)]
        return paged(roles, p, "Roles", lambda r: wire.role(r, False))

    def update_role(ctx: RequestContext, p: Params) -> Result:
        ids.update_role(
            ctx.account_id, p["RoleName"], p.get("Description"), p.get("MaxSessionDuration")
        )
        return {}

    def update_role_description(ctx: RequestContext, p: Params) -> Result:
        ids.update_role(ctx.account_id, p["RoleName"], p["Description"], None)
        return {"Role": wire.role(s.roles.get(ctx.account_id, p["RoleName"]))}

    def update_assume_role_policy(ctx: RequestContext, p: Params) -> Result:
        ids.update_trust(ctx.account_id, p["RoleName"], p["PolicyDocument"])
        return {}

    def delete_role(ctx: RequestContext, p: Params) -> Result:
        ids.delete_role(ctx.account_id, p["RoleName"])
        return {}

    def create_service_linked_role(ctx: RequestContext, p: Params) -> Result:
        role = ids.create_service_linked_role(
            ctx.account_id, p["AWSServiceName"], p.get("Description"), p.get("CustomSuffix")
        )
        return {"Role": wire.role(role)}

    def delete_service_linked_role(ctx: RequestContext, p: Params) -> Result:
        role = s.roles.get(ctx.account_id, p["RoleName"])
        if not role.path.startswith("/aws-service-role/"):
            raise ValidationError(f"Role {role.name} is not a service-linked role.")
        s.commit(deletes=[(s.roles, ctx.account_id, role.name)])
        return {"DeletionTaskId": f"task{role.path}{role.name}/{role.id}"}

    def get_service_linked_role_deletion_status(ctx: RequestContext, p: Params) -> Result:
        return {"Status": "SUCCEEDED"}

    def create_instance_profile(ctx: RequestContext, p: Params) -> Result:
        profile = ids.create_instance_profile(
            ctx.account_id, p["InstanceProfileName"], p.get("Path"), validation.tags(p.get("Tags"))
        )
        return {"InstanceProfile": wire.instance_profile(profile, [])}

    def profile_out(account: str, name: str) -> Result:
        profile = s.profiles.get(account, name)
        roles = [r for n in profile.roles if (r := s.roles.find(account, n)) is not None]
        return wire.instance_profile(profile, roles)

    def get_instance_profile(ctx: RequestContext, p: Params) -> Result:
        return {"InstanceProfile": profile_out(ctx.account_id, p["InstanceProfileName"])}

    def list_instance_profiles(ctx: RequestContext, p: Params) -> Result:
        names = sorted(x.name for x in s.profiles.all(ctx.account_id))
        return paged(names, p, "InstanceProfiles", lambda n: profile_out(ctx.account_id, n))

    def list_instance_profiles_for_role(ctx: RequestContext, p: Params) -> Result:
        role = s.roles.get(ctx.account_id, p["RoleName"])
        names = sorted(x.name for x in s.profiles.all(ctx.account_id) if role.name in x.roles)
        return paged(names, p, "InstanceProfiles", lambda n: profile_out(ctx.account_id, n))

    def delete_instance_profile(ctx: RequestContext, p: Params) -> Result:
        ids.delete_instance_profile(ctx.account_id, p["InstanceProfileName"])
        return {}

    def add_role_to_instance_profile(ctx: RequestContext, p: Params) -> Result:
        ids.add_role_to_profile(ctx.account_id, p["InstanceProfileName"], p["RoleName"])
        return {}

    def remove_role_from_instance_profile(ctx: RequestContext, p: Params) -> Result:
        ids.remove_role_from_profile(ctx.account_id, p["InstanceProfileName"], p["RoleName"])
        return {}

    def boundary_ops(kind: str, key: str) -> tuple[Handler, Handler]:
        table: Table[Any] = s.users if kind == "user" else s.roles

        def put(ctx: RequestContext, p: Params) -> Result:
            iam.policies.get(ctx.account_id, p["PermissionsBoundary"])
            entity = table.get(ctx.account_id, p[key])
            changed = replace(entity, boundary=p["PermissionsBoundary"])
            s.commit([(table, ctx.account_id, entity.name, changed)])
            return {}

        def delete(ctx: RequestContext, p: Params) -> Result:
            entity = table.get(ctx.account_id, p[key])
            s.commit([(table, ctx.account_id, entity.name, replace(entity, boundary=None))])
            return {}

        return put, delete

    put_user_boundary, delete_user_boundary = boundary_ops("user", "UserName")
    put_role_boundary, delete_role_boundary = boundary_ops("role", "RoleName")

    def list_account_aliases(ctx: RequestContext, p: Params) -> Result:
        # Dockyard accounts have no aliases (CreateAccountAlias is not served).
        return {"AccountAliases": [], "IsTruncated": False}

    out: dict[str, Any] = {
        "ListAccountAliases": list_account_aliases,
        "PutUserPermissionsBoundary": put_user_boundary,
        "DeleteUserPermissionsBoundary": delete_user_boundary,
        "PutRolePermissionsBoundary": put_role_boundary,
        "DeleteRolePermissionsBoundary": delete_role_boundary,
        "CreateUser": create_user, "GetUser": get_user, "ListUsers": list_users,
        "UpdateUser": update_user, "DeleteUser": delete_user,
        "CreateAccessKey": create_access_key, "ListAccessKeys": list_access_keys,
        "UpdateAccessKey": update_access_key, "DeleteAccessKey": delete_access_key,
        "GetAccessKeyLastUsed": get_access_key_last_used,
        "CreateGroup": create_group, "GetGroup": get_group, "ListGroups": list_groups,
        "ListGroupsForUser": list_groups_for_user, "DeleteGroup": delete_group,
        "AddUserToGroup": add_user_to_group, "RemoveUserFromGroup": remove_user_from_group,
        "CreateRole": create_role, "GetRole": get_role, "ListRoles": list_roles,
        "UpdateRole": update_role, "UpdateRoleDescription": update_role_description,
        "UpdateAssumeRolePolicy": update_assume_role_policy, "DeleteRole": delete_role,
        "CreateServiceLinkedRole": create_service_linked_role,
        "DeleteServiceLinkedRole": delete_service_linked_role,
        "GetServiceLinkedRoleDeletionStatus": get_service_linked_role_deletion_status,
        "CreateInstanceProfile": create_instance_profile,
        "GetInstanceProfile": get_instance_profile,
        "ListInstanceProfiles": list_instance_profiles,
        "ListInstanceProfilesForRole": list_instance_profiles_for_role,
        "DeleteInstanceProfile": delete_instance_profile,
        "AddRoleToInstanceProfile": add_role_to_instance_profile,
        "RemoveRoleFromInstanceProfile": remove_role_from_instance_profile,
    }  # fmt: skip
    return out
