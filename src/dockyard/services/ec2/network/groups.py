"""Security groups and their rules: a default group in each VPC (which cannot be deleted),
a default egress rule in each new group, duplicates refused, a group in use kept."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2.errors import (
    DependencyViolation,
    InvalidParameterValue,
    malformed,
    missing,
)
from dockyard.services.ec2.ids import new_id
from dockyard.services.ec2.network import rules as rule_wire
from dockyard.services.ec2.network.model import Direction, Rule, SecurityGroup, Vpc
from dockyard.services.ec2.network.state import Records, default_vpc_id, editable

log = logging.getLogger(__name__)

MAX_NAME = 255
# EC2's default quotas: groups a VPC, rules a group in each direction.
MAX_GROUPS = 2500
MAX_RULES = 60
ALLOWED = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-:/()#,@[]+=&;{}!$*"
)


def everything_out() -> Rule:
    return Rule(new_id("sgr"), Direction.EGRESS, "-1", cidr_ipv4="0.0.0.0/0")


def default_group(scope: Scope, vpc_id: str) -> SecurityGroup:
    """A VPC's `default` group: all traffic from its own members in, everything out."""
    group = SecurityGroup(
        new_id("sg"),
        scope.account_id,
        scope.region,
        name="default",
        description="default VPC security group",
        vpc_id=vpc_id,
    )
    group.rules = [
        Rule(new_id("sgr"), Direction.INGRESS, "-1", group_id=group.id),
        everything_out(),
    ]
    return group


def _text(value: str | None, parameter: str) -> str:
    if value is None or value == "":
        raise missing(parameter)
    if len(value) > MAX_NAME or not set(value) <= ALLOWED:
        raise InvalidParameterValue(
            f"Value ({value}) for parameter {parameter} is invalid. Character sets beyond "
            "a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$* are not allowed, at most "
            f"{MAX_NAME} characters."
        )
    return value


def not_found(reference: str) -> ServiceError:
    return ServiceError(
        f"The security group '{reference}' does not exist", code="InvalidGroup.NotFound"
    )


class SecurityGroups:
    def __init__(self, records: Records) -> None:
        self.records = records

    def get(self, scope: Scope, group_id: str) -> SecurityGroup:
        if not group_id.startswith("sg-"):
            raise malformed("InvalidGroupId.Malformed", "sg", group_id)
        group = self.records.find(scope, group_id, SecurityGroup)
        if group is None:
            raise not_found(group_id)
        return group

    def named(self, scope: Scope, name: str, vpc_id: str | None = None) -> SecurityGroup:
        """A group by name in a VPC (default: the default VPC), as GroupName= finds it."""
        vpc = vpc_id or default_vpc_id(self.records, scope)
        for group in self.records.all(scope, SecurityGroup):
            if group.name == name and group.vpc_id == vpc:
                return group
        raise ServiceError(
            f"The security group '{name}' does not exist in default VPC '{vpc}'",
            code="InvalidGroup.NotFound",
        )

    def resolve(self, scope: Scope, group_id: str | None, name: str | None) -> SecurityGroup:
        if group_id:
            return self.get(scope, group_id)
        if name:
            return self.named(scope, name)
        raise missing("GroupId")

    def create(
        self,
        scope: Scope,
        name: str | None,
        description: str | None,
        vpc_id: str | None,
        tags: dict[str, str],
    ) -> SecurityGroup:
        name = _text(name, "GroupName")
        description = _text(description, "GroupDescription")
        if name.lower().startswith("sg-"):
            raise InvalidParameterValue(
                f"Group names may not be in the format sg-* (GroupName: {name})."
            )
        if name == "default":
            raise ServiceError(
                "The security group name 'default' is a reserved name (GroupName).",
                code="InvalidGroup.Reserved",
            )
        vpc_id = vpc_id or default_vpc_id(self.records, scope)
        if vpc_id is None:
            raise ServiceError("No default VPC for this user", code="VPCIdNotSpecified")
        if self.records.find(scope, vpc_id, Vpc) is None:
            raise ServiceError(
                f"The vpc ID '{vpc_id}' does not exist", code="InvalidVpcID.NotFound"
            )
        siblings = [g for g in self.records.all(scope, SecurityGroup) if g.vpc_id == vpc_id]
        if len(siblings) >= MAX_GROUPS:
            raise ServiceError(
                f"The maximum number of security groups ({MAX_GROUPS}) of VPC {vpc_id} has "
                "been reached.",
                code="SecurityGroupLimitExceeded",
            )
        for other in siblings:
            if other.name == name:
                raise ServiceError(
                    f"The security group '{name}' already exists for VPC '{vpc_id}'",
                    code="InvalidGroup.Duplicate",
                )
        group = SecurityGroup(
            new_id("sg"),
            scope.account_id,
            scope.region,
            dict(tags),
            name=name,
            description=description,
            vpc_id=vpc_id,
            rules=[everything_out()],
        )
        self.records.commit([group])
        log.info("ec2: created security group %s (%s) in %s", group.id, name, vpc_id,
                 extra={"arn": group.arn})  # fmt: skip
        return group

    def delete(self, scope: Scope, group: SecurityGroup) -> None:
        if group.is_default:
            raise ServiceError(
                f'the specified group: "{group.id}" name: "default" cannot be deleted by a user',
                code="CannotDelete",
            )
        for other in self.records.all(scope, SecurityGroup):
            if other.id != group.id and any(r.group_id == group.id for r in other.rules):
                raise DependencyViolation(f"resource {group.id} has a dependent object")
        self.records.commit(deletes=[group])

    def _peer(self, scope: Scope, group: SecurityGroup) -> rule_wire.GroupLookup:
        def lookup(pair: Mapping[str, Any]) -> str:
            if pair.get("GroupId"):
                peer = self.get(scope, str(pair["GroupId"]))
            elif pair.get("GroupName"):
                peer = self.named(scope, str(pair["GroupName"]), group.vpc_id)
            else:
                raise missing("UserIdGroupPairs.GroupId")
            if peer.vpc_id != group.vpc_id:
                raise InvalidParameterValue(
                    f"You have specified two resources that belong to different networks "
                    f"(UserIdGroupPairs.GroupId: {peer.id})."
                )
            return peer.id

        return lookup

    def authorize(
        self,
        scope: Scope,
        group: SecurityGroup,
        direction: Direction,
        permissions: Sequence[Mapping[str, Any]],
        tags: dict[str, str],
    ) -> list[Rule]:
        added = rule_wire.from_permissions(permissions, direction, self._peer(scope, group))
        seen = {r.identity for r in group.rules}
        for rule in added:
            if rule.identity in seen:
                raise ServiceError(
                    f'the specified rule "{rule_wire.describe_peer(rule)}" already exists',
                    code="InvalidPermission.Duplicate",
                )
            seen.add(rule.identity)
            rule.tags = dict(tags)
        if len(group.rules_of(direction)) + len(added) > MAX_RULES:
            raise ServiceError(
                f"The maximum number of {direction} rules of a security group ({MAX_RULES}) "
                "has been reached.",
                code="RulesPerSecurityGroupLimitExceeded",
            )
        changed = editable(group)
        changed.rules.extend(added)
        self.records.commit([changed])
        return added

    def revoke(
        self,
        scope: Scope,
        group: SecurityGroup,
        direction: Direction,
        permissions: Sequence[Mapping[str, Any]],
        rule_ids: Sequence[str],
    ) -> list[Rule]:
        wanted = rule_wire.from_permissions(permissions, direction, self._peer(scope, group))
        identities = {r.identity for r in wanted}
        gone = [r for r in group.rules_of(direction) if r.identity in identities]
        if len(gone) < len(identities):
            raise ServiceError(
                "The specified rule does not exist in this security group.",
                code="InvalidPermission.NotFound",
            )
        by_id = {r.id: r for r in group.rules_of(direction)}
        for rule_id in rule_ids:
            if rule_id not in by_id:
                raise ServiceError(
                    f"The security group rule ID '{rule_id}' does not exist",
                    code="InvalidSecurityGroupRuleId.NotFound",
                )
            gone.append(by_id[rule_id])
        if not gone:
            raise missing("IpPermissions or SecurityGroupRuleIds")
        ids = {r.id for r in gone}
        changed = editable(group)
        changed.rules = [r for r in changed.rules if r.id not in ids]
        self.records.commit([changed])
        return gone

    def rule(self, scope: Scope, rule_id: str) -> tuple[SecurityGroup, Rule] | None:
        for group in self.records.all(scope, SecurityGroup):
            for r in group.rules:
                if r.id == rule_id:
                    return group, r
        return None

    def describe_rules(
        self, scope: Scope, group: SecurityGroup, direction: Direction,
        permissions: Sequence[Mapping[str, Any]], by_id: Mapping[str, str | None],
    ) -> None:  # fmt: skip
        """Set rules' descriptions: those `permissions` name (with their descriptions), and
        those given by rule id."""
        wanted = rule_wire.from_permissions(permissions, direction, self._peer(scope, group))
        descriptions = {r.identity: r.description for r in wanted}
        mine = {r.id: r for r in group.rules_of(direction)}
        known = {r.identity for r in mine.values()}
        if any(identity not in known for identity in descriptions) or any(
            rule_id not in mine for rule_id in by_id
        ):
            raise ServiceError(
                "The specified rule does not exist in this security group.",
                code="InvalidPermission.NotFound",
            )
        if not descriptions and not by_id:
            raise missing("IpPermissions or SecurityGroupRuleDescriptions")
        changed = editable(group)
        for r in changed.rules:
            if r.direction != direction:
                continue
            if r.identity in descriptions:
                r.description = descriptions[r.identity]
            if r.id in by_id:
                r.description = rule_wire.description(by_id[r.id])
        self.records.commit([changed])

    def modify_rules(
        self, scope: Scope, group: SecurityGroup, changes: Mapping[str, Mapping[str, Any]]
    ) -> None:
        """Replace rules in place (ModifySecurityGroupRules): same id and direction, the
        protocol, ports, peer and description given."""
        if not changes:
            raise missing("SecurityGroupRules")
        by_id = {r.id: r for r in group.rules}
        changed = editable(group)
        replaced: dict[str, Rule] = {}
        for rule_id, spec in changes.items():
            old = by_id.get(rule_id)
            if old is None:
                raise ServiceError(
                    f"The security group rule ID '{rule_id}' does not exist",
                    code="InvalidSecurityGroupRuleId.NotFound",
                )
            peers = {
                "IpRanges": [{"CidrIp": spec["CidrIpv4"]}] if spec.get("CidrIpv4") else [],
                "Ipv6Ranges": [{"CidrIpv6": spec["CidrIpv6"]}] if spec.get("CidrIpv6") else [],
                "UserIdGroupPairs": (
                    [{"GroupId": spec["ReferencedGroupId"]}]
                    if spec.get("ReferencedGroupId")
                    else []
                ),
                "PrefixListIds": (
                    [{"PrefixListId": spec["PrefixListId"]}] if spec.get("PrefixListId") else []
                ),
            }
            if sum(bool(v) for v in peers.values()) != 1:
                raise InvalidParameterValue(
                    "A security group rule names exactly one of CidrIpv4, CidrIpv6, "
                    f"ReferencedGroupId or PrefixListId (SecurityGroupRule of {rule_id})."
                )
            permission = {"IpProtocol": spec.get("IpProtocol"), "FromPort": spec.get("FromPort"),
                          "ToPort": spec.get("ToPort"), **peers}  # fmt: skip
            (new,) = rule_wire.from_permissions(
                [permission], old.direction, self._peer(scope, group)
            )
            new.id, new.tags = old.id, dict(old.tags)
            new.description = rule_wire.description(spec.get("Description"))
            replaced[rule_id] = new
        changed.rules = [replaced.get(r.id, r) for r in changed.rules]
        identities = [r.identity for r in changed.rules]
        if len(identities) != len(set(identities)):
            raise ServiceError(
                "The changed rules would duplicate a rule of this security group.",
                code="InvalidPermission.Duplicate",
            )
        self.records.commit([changed])
