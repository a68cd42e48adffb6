"""Account-wide IAM reads: GetAccountAuthorizationDetails (every user, group, role and
policy with their policies, as security tools read them)."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.iam import wire
from dockyard.services.iam.model import Attachable, ManagedPolicy
from dockyard.services.iam.ops_identities import paged
from dockyard.services.iam.service import Iam

FILTERS = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")


def handlers(iam: Iam) -> dict[str, Handler]:
    s = iam.state
    pol = iam.policies

    def attached(account: str, entity: Attachable) -> list[Result]:
        out = []
        for arn in entity.attached:
            managed = pol.find(account, arn)
            if managed is not None:
                out.append({"PolicyName": managed.name, "PolicyArn": arn})
        return out

    def inline(entity: Attachable) -> list[Result]:
        return [
            {"PolicyName": name, "PolicyDocument": wire.document(text)}
            for name, text in sorted(entity.inline.items())
        ]

    def policy_detail(account: str, managed: ManagedPolicy) -> Result:
        out = wire.policy(
            managed,
            len(pol.attachments(account, managed.arn)),
            pol.boundary_uses(account, managed.arn),
        )
        out.pop("Tags", None)
        out["PolicyVersionList"] = [
            wire.version(v, managed.default_version) for v in managed.versions
        ]
        return out

    def get_account_authorization_details(ctx: RequestContext, p: Params) -> Result:
        account = ctx.account_id
        wanted = set(p.get("Filter") or FILTERS)
        rows: list[tuple[str, Any]] = []
        if "User" in wanted:
            for user in sorted(s.users.all(account), key=lambda u: u.name.lower()):
                row = wire.user(user)
                row["UserPolicyList"] = inline(user)
                row["GroupList"] = [g.name for g in s.groups.all(account) if user.name in g.members]
                row["AttachedManagedPolicies"] = attached(account, user)
                rows.append(("UserDetailList", row))
        if "Group" in wanted:
            for group in sorted(s.groups.all(account), key=lambda g: g.name.lower()):
                row = wire.group(group)
                row["GroupPolicyList"] = inline(group)
                row["AttachedManagedPolicies"] = attached(account, group)
                rows.append(("GroupDetailList", row))
        if "Role" in wanted:
            for role in sorted(s.roles.all(account), key=lambda r: r.name.lower()):
                row = wire.role(role)
                row["RolePolicyList"] = inline(role)
                row["AttachedManagedPolicies"] = attached(account, role)
                row["InstanceProfileList"] = [
                    wire.instance_profile(x, [role])
                    for x in s.profiles.all(account)
                    if role.name in x.roles
                ]
                rows.append(("RoleDetailList", row))
        chosen: list[ManagedPolicy] = []
        if "LocalManagedPolicy" in wanted:
            chosen += pol.all(account, "Local")
        if "AWSManagedPolicy" in wanted:
            chosen += [x for x in pol.all(account, "AWS") if pol.attachments(account, x.arn)]
        rows += [
            ("Policies", policy_detail(account, x)) for x in sorted(chosen, key=lambda x: x.name)
        ]
        page = paged(rows, p, "_rows", lambda r: {"key": r[0], "row": r[1]})
        keys = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
        out: Result = {key: [] for key in keys}
        for item in page.pop("_rows"):
            out[item["key"]].append(item["row"])
        out.update(page)
        return out

    return {"GetAccountAuthorizationDetails": get_account_authorization_details}
