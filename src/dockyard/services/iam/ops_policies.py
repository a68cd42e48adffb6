"""Managed and inline policy operations, tags, and policy simulation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dockyard.api.context import RequestContext
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.iampolicy import PolicyKind, Request, evaluate
from dockyard.core.principals import Principal, PrincipalKind
from dockyard.services.iam import validation, wire
from dockyard.services.iam.errors import InvalidInput, NoSuchEntity
from dockyard.services.iam.ops_identities import paged, under
from dockyard.services.iam.service import Iam

KINDS = {"User": "user", "Group": "group", "Role": "role"}


def handlers(iam: Iam) -> dict[str, Handler]:
    pol = iam.policies
    s = iam.state

    def create_policy(ctx: RequestContext, p: Params) -> Result:
        policy = pol.create(
            ctx.account_id, p["PolicyName"], p.get("Path"), p["PolicyDocument"],
            p.get("Description"), validation.tags(p.get("Tags")),
        )  # fmt: skip
        return {"Policy": wire.policy(policy, 0)}

    def count(account: str, arn: str) -> int:
        return len(pol.attachments(account, arn))

    def get_policy(ctx: RequestContext, p: Params) -> Result:
        policy = pol.get(ctx.account_id, p["PolicyArn"])
        uses = pol.boundary_uses(ctx.account_id, policy.arn)
        return {"Policy": wire.policy(policy, count(ctx.account_id, policy.arn), uses)}

    def list_policies(ctx: RequestContext, p: Params) -> Result:
        chosen = pol.all(ctx.account_id, p.get("Scope") or "All")
        chosen = [x for x in chosen if under(p.get("PathPrefix"), x.path)]
        if p.get("OnlyAttached"):
            chosen = [x for x in chosen if count(ctx.account_id, x.arn)]
        chosen.sort(key=lambda x: x.name.lower())
        return paged(chosen, p, "Policies", lambda x: wire.policy(x, count(ctx.account_id, x.arn)))

    def delete_policy(ctx: RequestContext, p: Params) -> Result:
        pol.delete(ctx.account_id, p["PolicyArn"])
        return {}

    def create_policy_version(ctx: RequestContext, p: Params) -> Result:
        version = pol.create_version(
            ctx.account_id, p["PolicyArn"], p["PolicyDocument"], bool(p.get("SetAsDefault"))
        )
        policy = pol.get(ctx.account_id, p["PolicyArn"])
        return {"PolicyVersion": wire.version(version, policy.default_version)}

    def get_policy_version(ctx: RequestContext, p: Params) -> Result:
        policy, version = pol.version(ctx.account_id, p["PolicyArn"], p["VersionId"])
        return {"PolicyVersion": wire.version(version, policy.default_version)}

    def list_policy_versions(ctx: RequestContext, p: Params) -> Result:
        policy = pol.get(ctx.account_id, p["PolicyArn"])
        versions = sorted(policy.versions, key=lambda v: -v.created)
        return paged(versions, p, "Versions", lambda v: wire.version(v, policy.default_version))

    def delete_policy_version(ctx: RequestContext, p: Params) -> Result:
        pol.delete_version(ctx.account_id, p["PolicyArn"], p["VersionId"])
        return {}

    def set_default_policy_version(ctx: RequestContext, p: Params) -> Result:
        pol.set_default(ctx.account_id, p["PolicyArn"], p["VersionId"])
        return {}

    def list_entities_for_policy(ctx: RequestContext, p: Params) -> Result:
        pol.get(ctx.account_id, p["PolicyArn"])
        found = pol.attachments(ctx.account_id, p["PolicyArn"])
        out: Result = {
            "PolicyGroups": [],
            "PolicyUsers": [],
            "PolicyRoles": [],
            "IsTruncated": False,
        }
        for kind, entity in found:
            key = {"user": "PolicyUsers", "group": "PolicyGroups", "role": "PolicyRoles"}[kind]
            out[key].append(
                {f"{kind.capitalize()}Name": entity.name, f"{kind.capitalize()}Id": entity.id}
            )
        return out

    out: dict[str, Any] = {
        "CreatePolicy": create_policy, "GetPolicy": get_policy, "ListPolicies": list_policies,
        "DeletePolicy": delete_policy, "CreatePolicyVersion": create_policy_version,
        "GetPolicyVersion": get_policy_version, "ListPolicyVersions": list_policy_versions,
        "DeletePolicyVersion": delete_policy_version,
        "SetDefaultPolicyVersion": set_default_policy_version,
        "ListEntitiesForPolicy": list_entities_for_policy,
    }  # fmt: skip

    for label, kind in KINDS.items():
        name_key = f"{label}Name"

        def attach(ctx: RequestContext, p: Params, kind: str = kind, key: str = name_key) -> Result:
            pol.attach(ctx.account_id, kind, p[key], p["PolicyArn"])
            return {}

        def detach(ctx: RequestContext, p: Params, kind: str = kind, key: str = name_key) -> Result:
            pol.detach(ctx.account_id, kind, p[key], p["PolicyArn"])
            return {}

        def attached(
            ctx: RequestContext, p: Params, kind: str = kind, key: str = name_key
        ) -> Result:
            entity = pol.table(kind).get(ctx.account_id, p[key])
            rows = []
            for arn in entity.attached:
                managed = pol.find(ctx.account_id, arn)
                if managed is not None and under(p.get("PathPrefix"), managed.path):
                    rows.append({"PolicyName": managed.name, "PolicyArn": arn})
            return paged(rows, p, "AttachedPolicies", lambda r: r)

        def put(ctx: RequestContext, p: Params, kind: str = kind, key: str = name_key) -> Result:
            pol.put_inline(ctx.account_id, kind, p[key], p["PolicyName"], p["PolicyDocument"])
            return {}

        def get(ctx: RequestContext, p: Params, kind: str = kind, key: str = name_key) -> Result:
            name, document = pol.get_inline(ctx.account_id, kind, p[key], p["PolicyName"])
            return {
                key: name,
                "PolicyName": p["PolicyName"],
                "PolicyDocument": wire.document(document),
            }

        def delete(ctx: RequestContext, p: Params, kind: str = kind, key: str = name_key) -> Result:
            pol.delete_inline(ctx.account_id, kind, p[key], p["PolicyName"])
            return {}

        def names(ctx: RequestContext, p: Params, kind: str = kind, key: str = name_key) -> Result:
            entity = pol.table(kind).get(ctx.account_id, p[key])
            return paged(sorted(entity.inline), p, "PolicyNames", lambda n: n)

        out.update({
            f"Attach{label}Policy": attach, f"Detach{label}Policy": detach,
            f"ListAttached{label}Policies": attached, f"Put{label}Policy": put,
            f"Get{label}Policy": get, f"Delete{label}Policy": delete,
            f"List{label}Policies": names,
        })  # fmt: skip

    # -- tags --------------------------------------------------------------------------------

    def tagger(table: Any, key: str, by_arn: bool = False) -> tuple[Handler, Handler, Handler]:
        def find(ctx: RequestContext, p: Params) -> Any:
            if by_arn:
                policy = pol.get(ctx.account_id, p[key])
                if policy.account_id == "aws":
                    raise InvalidInput("AWS managed policies cannot be tagged.")
                return policy
            return table.get(ctx.account_id, p[key])

        def save(ctx: RequestContext, record: Any, tags: dict[str, str]) -> None:
            s.commit([(table, ctx.account_id, record.name, replace(record, tags=tags))])

        def tag(ctx: RequestContext, p: Params) -> Result:
            record = find(ctx, p)
            save(ctx, record, {**record.tags, **validation.tags(p["Tags"])})
            return {}

        def untag(ctx: RequestContext, p: Params) -> Result:
            record = find(ctx, p)
            gone = set(p["TagKeys"])
            save(ctx, record, {k: v for k, v in record.tags.items() if k not in gone})
            return {}

        def listed(ctx: RequestContext, p: Params) -> Result:
            return paged(list(find(ctx, p).tags.items()), p, "Tags",
                         lambda kv: {"Key": kv[0], "Value": kv[1]})  # fmt: skip

        return tag, untag, listed

    for label, table, key, by_arn in (
        ("User", s.users, "UserName", False),
        ("Role", s.roles, "RoleName", False),
        ("Policy", s.policies, "PolicyArn", True),
        ("InstanceProfile", s.profiles, "InstanceProfileName", False),
    ):
        tag, untag, listed = tagger(table, key, by_arn)
        out.update({f"Tag{label}": tag, f"Untag{label}": untag, f"List{label}Tags": listed})

    # -- simulation --------------------------------------------------------------------------

    def principal_of(account: str, arn: str) -> Principal:
        resource = arn.split(":", 5)[-1]
        kind, _, rest = resource.partition("/")
        name = rest.rpartition("/")[2]
        if kind == "user" and (user := s.users.find(account, name)) is not None:
            return Principal(account, PrincipalKind.USER, user.arn, user.id, user.name)
        if kind == "role" and (role := s.roles.find(account, name)) is not None:
            return Principal(account, PrincipalKind.ASSUMED_ROLE, role.arn, f"{role.id}:sim",
                             role.name, role_arn=role.arn)  # fmt: skip
        if kind == "group" and (group := s.groups.find(account, name)) is not None:
            return Principal(account, PrincipalKind.USER, group.arn, group.id, "")
        raise NoSuchEntity(f"The principal {arn} cannot be found.")

    def simulate(ctx: RequestContext, p: Params, policies: list[Any], tags: dict[str, str],
                 who: Principal | None, boundary: list[Any] | None = None) -> Result:  # fmt: skip
        for text in p.get("PolicyInputList") or []:
            policies.append(
                validation.document(text, PolicyKind.IDENTITY, 1 << 20, "PolicyInputList")
            )
        for text in p.get("PermissionsBoundaryPolicyInputList") or []:
            boundary = [validation.document(text, PolicyKind.IDENTITY, 1 << 20, "boundary input")]
        resource_policy = None
        if p.get("ResourcePolicy"):
            resource_policy = validation.document(
                p["ResourcePolicy"], PolicyKind.RESOURCE, 1 << 20, "ResourcePolicy"
            )
        caller = {"AWS": [who.arn]} if who is not None else {}
        context: dict[str, list[str]] = {}
        if who is not None:
            context["aws:principalarn"] = [who.arn]
            context["aws:principalaccount"] = [who.account_id]
            if who.kind is PrincipalKind.USER and who.name:
                context["aws:username"] = [who.name]
        for k, v in tags.items():
            context[f"aws:principaltag/{k.lower()}"] = [v]
        for entry in p.get("ContextEntries") or []:
            context[entry["ContextKeyName"].lower()] = list(entry.get("ContextKeyValues") or [])
        results = []
        for action in p["ActionNames"]:
            for resource in p.get("ResourceArns") or ["*"]:
                decision = evaluate(
                    Request(action, resource, context, caller),
                    policies,
                    resource_policy,
                    boundary=boundary,
                )
                results.append({
                    "EvalActionName": action, "EvalResourceName": resource,
                    "EvalDecision": str(decision.outcome),
                    "MatchedStatements": [
                        {"SourcePolicyId": m.source, "SourcePolicyType": "IAM Policy"}
                        for m in decision.matches
                    ],
                    "MissingContextValues": [],
                })  # fmt: skip
        return {"EvaluationResults": results, "IsTruncated": False}

    def simulate_principal_policy(ctx: RequestContext, p: Params) -> Result:
        who = principal_of(ctx.account_id, p["PolicySourceArn"])
        if ":group/" in p["PolicySourceArn"]:
            group = s.groups.get(ctx.account_id, who.arn.rpartition("/")[2])
            policies, tags = iam.entity_policies(ctx.account_id, group), {}
        else:
            perms = iam.permissions(who)
            policies, tags = list(perms.policies), dict(perms.tags)
            bound = list(perms.boundary) if perms.boundary is not None else None
            return simulate(ctx, p, policies, tags, who, bound)
        return simulate(ctx, p, policies, tags, who)

    def simulate_custom_policy(ctx: RequestContext, p: Params) -> Result:
        return simulate(ctx, p, [], {}, None)

    out["SimulatePrincipalPolicy"] = simulate_principal_policy
    out["SimulateCustomPolicy"] = simulate_custom_policy
    return out
