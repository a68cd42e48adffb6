"""Security group and rule operations: request in, domain call, output out."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2 import filters, tags
from dockyard.services.ec2.describe import described
from dockyard.services.ec2.network import rules, wire
from dockyard.services.ec2.network.groups import SecurityGroups, not_found
from dockyard.services.ec2.network.model import Direction, Rule, SecurityGroup

RULE_FILTERS = ("group-id", "security-group-rule-id", "is-egress", "ip-protocol")


def permissions_of(p: Params) -> list[dict[str, Any]]:
    """`IpPermissions`, or the one permission of the top-level `IpProtocol`/`CidrIp`/ports."""
    given = list(p.get("IpPermissions") or [])
    if p.get("CidrIp") or p.get("IpProtocol"):
        given.append(
            {
                "IpProtocol": p.get("IpProtocol") or "-1",
                "FromPort": p.get("FromPort"),
                "ToPort": p.get("ToPort"),
                "IpRanges": [{"CidrIp": p["CidrIp"]}] if p.get("CidrIp") else [],
            }
        )
    if p.get("SourceSecurityGroupName") or p.get("SourceSecurityGroupOwnerId"):
        given.append(
            {
                "IpProtocol": "-1",
                "UserIdGroupPairs": [{"GroupName": p.get("SourceSecurityGroupName")}],
            }
        )
    return given


def handlers(groups: SecurityGroups) -> dict[str, Handler]:
    records = groups.records

    def target(scope: Scope, p: Params) -> SecurityGroup:
        return groups.resolve(scope, p.get("GroupId"), p.get("GroupName"))

    def create_security_group(ctx: RequestContext, p: Params) -> Result:
        group = groups.create(
            scope_of(ctx),
            p.get("GroupName"),
            p.get("Description"),
            p.get("VpcId"),
            tags.specified(p.get("TagSpecifications"), "security-group"),
        )
        return {
            "GroupId": group.id,
            "Tags": tags.to_wire(group.tags),
            "SecurityGroupArn": group.arn,
        }

    def delete_security_group(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        group = target(scope, p)
        groups.delete(scope, group)
        return {"Return": True, "GroupId": group.id}

    def describe_security_groups(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        every = records.all(scope, SecurityGroup)
        wanted = list(p.get("GroupIds") or [])
        wanted += [groups.named(scope, name).id for name in p.get("GroupNames") or []]
        chunk, token = described(
            every,
            lambda g: g.id,
            wanted,
            lambda ids: not_found(", ".join(ids)),
            wire.group_fields,
            wire.GROUP_FILTERS,
            p,
        )
        return filters.with_token({"SecurityGroups": [wire.group(g) for g in chunk]}, token)

    def authorizer(direction: Direction) -> Handler:
        def authorize(ctx: RequestContext, p: Params) -> Result:
            scope = scope_of(ctx)
            group = target(scope, p)
            added = groups.authorize(
                scope,
                group,
                direction,
                permissions_of(p),
                tags.specified(p.get("TagSpecifications"), "security-group-rule"),
            )
            shown = [rules.to_rule(r, group.id, group.account_id, group.region) for r in added]
            return {"Return": True, "SecurityGroupRules": shown}

        return authorize

    def revoker(direction: Direction) -> Handler:
        def revoke(ctx: RequestContext, p: Params) -> Result:
            scope = scope_of(ctx)
            group = target(scope, p)
            groups.revoke(
                scope,
                group,
                direction,
                permissions_of(p),
                list(p.get("SecurityGroupRuleIds") or []),
            )
            return {"Return": True}

        return revoke

    def describer(direction: Direction) -> Handler:
        def update_descriptions(ctx: RequestContext, p: Params) -> Result:
            scope = scope_of(ctx)
            by_id = {
                str(d.get("SecurityGroupRuleId")): d.get("Description")
                for d in p.get("SecurityGroupRuleDescriptions") or []
            }
            groups.describe_rules(scope, target(scope, p), direction, permissions_of(p), by_id)
            return {"Return": True}

        return update_descriptions

    def modify_security_group_rules(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        changes = {
            str(c.get("SecurityGroupRuleId")): dict(c.get("SecurityGroupRule") or {})
            for c in p.get("SecurityGroupRules") or []
        }
        groups.modify_rules(scope, groups.get(scope, str(p.get("GroupId") or "")), changes)
        return {"Return": True}

    def describe_security_group_rules(ctx: RequestContext, p: Params) -> Result:
        pairs: list[tuple[SecurityGroup, Rule]] = [
            (g, r) for g in records.all(scope_of(ctx), SecurityGroup) for r in g.rules
        ]
        pairs.sort(key=lambda gr: gr[1].id)
        chunk, token = described(
            pairs,
            lambda gr: gr[1].id,
            p.get("SecurityGroupRuleIds"),
            lambda ids: ServiceError(
                f"The security group rule ID '{', '.join(ids)}' does not exist",
                code="InvalidSecurityGroupRuleId.NotFound",
            ),
            lambda gr: {**rules.rule_fields(gr[1], gr[0].id), **filters.tag_fields(gr[1].tags)},
            RULE_FILTERS,
            p,
        )
        shown = [rules.to_rule(r, g.id, g.account_id, g.region) for g, r in chunk]
        return filters.with_token({"SecurityGroupRules": shown}, token)

    return {
        "CreateSecurityGroup": create_security_group,
        "DeleteSecurityGroup": delete_security_group,
        "DescribeSecurityGroups": describe_security_groups,
        "AuthorizeSecurityGroupIngress": authorizer(Direction.INGRESS),
        "AuthorizeSecurityGroupEgress": authorizer(Direction.EGRESS),
        "RevokeSecurityGroupIngress": revoker(Direction.INGRESS),
        "RevokeSecurityGroupEgress": revoker(Direction.EGRESS),
        "DescribeSecurityGroupRules": describe_security_group_rules,
        "UpdateSecurityGroupRuleDescriptionsIngress": describer(Direction.INGRESS),
        "UpdateSecurityGroupRuleDescriptionsEgress": describer(Direction.EGRESS),
        "ModifySecurityGroupRules": modify_security_group_rules,
    }
