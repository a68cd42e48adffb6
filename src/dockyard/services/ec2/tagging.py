"""CreateTags / DeleteTags / DescribeTags over every tagged record, by id (a security group
rule's tags live in its group's record)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2 import ids
from dockyard.services.ec2.errors import missing
from dockyard.services.ec2.network.model import Resource, SecurityGroup
from dockyard.services.ec2.network.state import Records, editable
from dockyard.services.ec2.tags import merged

MAX_RESOURCES = 1000

Edit = Callable[[dict[str, str]], dict[str, str]]

NOT_FOUND = {
    "vpc": ("InvalidVpcID.NotFound", "vpc"),
    "subnet": ("InvalidSubnetID.NotFound", "subnet"),
    "security-group": ("InvalidGroup.NotFound", "security group"),
    "security-group-rule": ("InvalidSecurityGroupRuleId.NotFound", "security group rule"),
    "route-table": ("InvalidRouteTableID.NotFound", "route table"),
    "internet-gateway": ("InvalidInternetGatewayID.NotFound", "internet gateway"),
    "network-acl": ("InvalidNetworkAclID.NotFound", "network ACL"),
    "launch-template": ("InvalidLaunchTemplateId.NotFound", "launch template"),
    "instance": ("InvalidInstanceID.NotFound", "instance"),
}


@dataclass(frozen=True, slots=True)
class TagEntry:
    resource_id: str
    resource_type: str
    key: str
    value: str


class Tagging:
    def __init__(self, records: Records) -> None:
        self.records = records

    def _owner(self, scope: Scope, resource_id: str) -> Resource:
        kind = ids.type_of(resource_id)
        if kind is None:
            raise ServiceError(f"The ID '{resource_id}' is not valid", code="InvalidID")
        if kind == "security-group-rule":
            for group in self.records.all(scope, SecurityGroup):
                if any(r.id == resource_id for r in group.rules):
                    return group
        else:
            record = self.records.by_scope.get(scope, {}).get(resource_id)
            if record is not None:
                return record
        code, what = NOT_FOUND[kind]
        raise ServiceError(f"The {what} ID '{resource_id}' does not exist", code=code)

    def _change(self, scope: Scope, resources: Sequence[str], edit: Edit) -> None:
        if not resources:
            raise missing("ResourceId")
        if len(resources) > MAX_RESOURCES:
            raise ServiceError(
                f"At most {MAX_RESOURCES} resources a request (ResourceId).",
                code="InvalidParameterValue",
            )
        changed: dict[str, Resource] = {}
        for resource_id in dict.fromkeys(resources):
            owner = self._owner(scope, resource_id)
            record = changed.setdefault(owner.id, editable(owner))
            if isinstance(record, SecurityGroup) and resource_id != record.id:
                rule = next(r for r in record.rules if r.id == resource_id)
                rule.tags = edit(rule.tags)
            else:
                record.tags = edit(record.tags)
        self.records.commit(list(changed.values()))

    def create(self, scope: Scope, resources: Sequence[str], tags: Mapping[str, str]) -> None:
        if not tags:
            raise missing("Tag")
        self._change(scope, resources, lambda current: merged(current, tags))

    def delete(
        self, scope: Scope, resources: Sequence[str], tags: Mapping[str, str | None]
    ) -> None:
        """Remove the keys given (only where the value matches, when a value is given); no
        tags: every tag."""

        def edit(current: dict[str, str]) -> dict[str, str]:
            if not tags:
                return {}
            return {
                k: v
                for k, v in current.items()
                if not (k in tags and (tags[k] is None or tags[k] == v))
            }

        self._change(scope, resources, edit)

    def entries(self, scope: Scope) -> list[TagEntry]:
        out: list[TagEntry] = []
        for record in self.records.every(scope):
            kind = ids.type_of(record.id) or ""
            out += [TagEntry(record.id, kind, k, v) for k, v in record.tags.items()]
            if isinstance(record, SecurityGroup):
                for rule in record.rules:
                    out += [
                        TagEntry(rule.id, "security-group-rule", k, v) for k, v in rule.tags.items()
                    ]
        return sorted(out, key=lambda e: (e.resource_id, e.key))
