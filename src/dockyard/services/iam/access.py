"""What IAM operations act on (Service Authorization Reference): users, groups, roles,
policies and instance profiles by ARN (an existing entity's own ARN, with its path);
iam:PassRole is asked by the services that take a role."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values

# The ARN of an existing entity (with its path), by account, kind and name; None if absent.
Existing = Callable[[str, str, str], "str | None"]

USER_OPS = (
    "CreateUser", "GetUser", "UpdateUser", "DeleteUser", "CreateAccessKey", "ListAccessKeys",
    "UpdateAccessKey", "DeleteAccessKey", "ListGroupsForUser", "AttachUserPolicy",
    "DetachUserPolicy", "ListAttachedUserPolicies", "PutUserPolicy", "GetUserPolicy",
    "DeleteUserPolicy", "ListUserPolicies", "TagUser", "UntagUser", "ListUserTags",
    "PutUserPermissionsBoundary", "DeleteUserPermissionsBoundary",
)  # fmt: skip
GROUP_OPS = (
    "CreateGroup", "GetGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
    "AttachGroupPolicy", "DetachGroupPolicy", "ListAttachedGroupPolicies", "PutGroupPolicy",
    "GetGroupPolicy", "DeleteGroupPolicy", "ListGroupPolicies",
)  # fmt: skip
ROLE_OPS = (
    "CreateRole", "GetRole", "UpdateRole", "UpdateRoleDescription", "DeleteRole",
    "UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies",
    "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy", "ListRolePolicies", "TagRole",
    "UntagRole", "ListRoleTags", "ListInstanceProfilesForRole", "DeleteServiceLinkedRole",
    "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary",
)  # fmt: skip
POLICY_OPS = (
    "GetPolicy", "DeletePolicy", "CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions",
    "DeletePolicyVersion", "SetDefaultPolicyVersion", "ListEntitiesForPolicy", "TagPolicy",
    "UntagPolicy", "ListPolicyTags",
)  # fmt: skip
PROFILE_OPS = (
    "CreateInstanceProfile", "GetInstanceProfile", "DeleteInstanceProfile",
    "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "TagInstanceProfile",
    "UntagInstanceProfile", "ListInstanceProfileTags",
)  # fmt: skip


def _arn(param: str) -> Resolver:
    return lambda req: values(req.params, param)


def _policy_by_name(req: AccessRequest) -> Iterable[str]:
    path = req.params.get("Path") or "/"
    return [f"arn:aws:iam::{req.account_id}:policy{path}{req.params['PolicyName']}"]


def access(existing: Existing) -> AccessFunction:
    def entity(param: str, kind: str) -> Resolver:
        def resolve(req: AccessRequest) -> Iterable[str]:
            path = req.params.get("Path") or "/"
            return [
                existing(req.account_id, kind, name)
                or f"arn:aws:iam::{req.account_id}:{kind}{path}{name}"
                for name in values(req.params, param)
            ]

        return resolve

    resolvers: dict[str, Resolver] = {}
    for ops, resolver in (
        (USER_OPS, entity("UserName", "user")),
        (GROUP_OPS, entity("GroupName", "group")),
        (ROLE_OPS, entity("RoleName", "role")),
        (POLICY_OPS, _arn("PolicyArn")),
        (PROFILE_OPS, entity("InstanceProfileName", "instance-profile")),
    ):
        resolvers.update(dict.fromkeys(ops, resolver))
    resolvers["CreatePolicy"] = _policy_by_name
    resolvers["SimulatePrincipalPolicy"] = _arn("PolicySourceArn")
    return table("iam", resolvers)
