"""What IAM operations act on (Service Authorization Reference): users, groups, roles,
policies and instance profiles by ARN; iam:PassRole is asked by the services that take a
role."""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values


def _entity(param: str, kind: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        path = req.params.get("Path") or "/"
        return [f"arn:aws:iam::{req.account_id}:{kind}{path}{v}" for v in values(req.params, param)]

    return resolve


def _arn(param: str) -> Resolver:
    return lambda req: values(req.params, param)


def _policy_by_name(req: AccessRequest) -> Iterable[str]:
    path = req.params.get("Path") or "/"
    return [f"arn:aws:iam::{req.account_id}:policy{path}{req.params['PolicyName']}"]


USER = _entity("UserName", "user")
GROUP = _entity("GroupName", "group")
ROLE = _entity("RoleName", "role")
PROFILE = _entity("InstanceProfileName", "instance-profile")
POLICY = _arn("PolicyArn")

RESOURCES: dict[str, Resolver] = {}
for op in ("CreateUser", "GetUser", "UpdateUser", "DeleteUser", "CreateAccessKey",
           "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey", "ListGroupsForUser",
           "AttachUserPolicy", "DetachUserPolicy", "ListAttachedUserPolicies", "PutUserPolicy",
           "GetUserPolicy", "DeleteUserPolicy", "ListUserPolicies", "TagUser", "UntagUser",
           "ListUserTags"):  # fmt: skip
    RESOURCES[op] = USER
for op in ("CreateGroup", "GetGroup", "DeleteGroup", "AddUserToGroup", "RemoveUserFromGroup",
           "AttachGroupPolicy", "DetachGroupPolicy", "ListAttachedGroupPolicies",
           "PutGroupPolicy", "GetGroupPolicy", "DeleteGroupPolicy",
           "ListGroupPolicies"):  # fmt: skip
    RESOURCES[op] = GROUP
for op in ("CreateRole", "GetRole", "UpdateRole", "UpdateRoleDescription", "DeleteRole",
           "UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy",
           "ListAttachedRolePolicies", "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy",
           "ListRolePolicies", "TagRole", "UntagRole", "ListRoleTags",
           "ListInstanceProfilesForRole", "DeleteServiceLinkedRole"):  # fmt: skip
    RESOURCES[op] = ROLE
for op in ("GetPolicy", "DeletePolicy", "CreatePolicyVersion", "GetPolicyVersion",
           "ListPolicyVersions", "DeletePolicyVersion", "SetDefaultPolicyVersion",
           "ListEntitiesForPolicy", "TagPolicy", "UntagPolicy", "ListPolicyTags"):  # fmt: skip
    RESOURCES[op] = POLICY
for op in ("CreateInstanceProfile", "GetInstanceProfile", "DeleteInstanceProfile",
           "AddRoleToInstanceProfile", "RemoveRoleFromInstanceProfile", "TagInstanceProfile",
           "UntagInstanceProfile", "ListInstanceProfileTags"):  # fmt: skip
    RESOURCES[op] = PROFILE
RESOURCES["CreatePolicy"] = _policy_by_name
RESOURCES["SimulatePrincipalPolicy"] = _arn("PolicySourceArn")

ACCESS: AccessFunction = table("iam", RESOURCES)
