"""Network ACLs: the default ACL of each VPC (allow everything in and out, then the
catch-all deny), associated with every subnet of the VPC. Custom ACLs are not served."""

from __future__ import annotations

from typing import Any

from dockyard.core.scope import Scope
from dockyard.services.ec2.filters import tag_fields, text
from dockyard.services.ec2.ids import new_id
from dockyard.services.ec2.network.model import AclEntry, NetworkAcl, RuleAction, Subnet
from dockyard.services.ec2.tags import to_wire

LAST = 32767

FILTERS = (
    "network-acl-id", "vpc-id", "default", "owner-id", "association.subnet-id",
    "association.association-id", "association.network-acl-id", "entry.cidr", "entry.egress",
    "entry.protocol", "entry.rule-action", "entry.rule-number",
)  # fmt: skip


def default_acl(scope: Scope, vpc_id: str) -> NetworkAcl:
    entries = [
        AclEntry(number, egress, allow)
        for egress in (False, True)
        for number, allow in ((100, True), (LAST, False))
    ]
    return NetworkAcl(new_id("acl"), scope.account_id, scope.region, vpc_id=vpc_id,
                      entries=entries)  # fmt: skip


def action(entry: AclEntry) -> RuleAction:
    return RuleAction.ALLOW if entry.allow else RuleAction.DENY


def association_id(subnet: Subnet) -> str:
    """Stable: the association of a subnet with its VPC's default ACL is derived from it."""
    return "aclassoc-" + subnet.id.removeprefix("subnet-")


def to_wire_acl(acl: NetworkAcl, subnets: list[Subnet]) -> dict[str, Any]:
    return {
        "NetworkAclId": acl.id,
        "VpcId": acl.vpc_id,
        "OwnerId": acl.account_id,
        "IsDefault": acl.is_default,
        "Entries": [
            {"RuleNumber": e.number, "Egress": e.egress, "Protocol": e.protocol,
             "RuleAction": action(e), "CidrBlock": e.cidr}
            for e in acl.entries
        ],
        "Associations": [
            {"NetworkAclAssociationId": association_id(s), "NetworkAclId": acl.id,
             "SubnetId": s.id}
            for s in subnets
        ],
        "Tags": to_wire(acl.tags),
    }  # fmt: skip


def fields(acl: NetworkAcl, subnets: list[Subnet]) -> dict[str, list[str]]:
    return {
        "network-acl-id": [acl.id], "vpc-id": [acl.vpc_id], "default": [text(acl.is_default)],
        "owner-id": [acl.account_id],
        "association.subnet-id": [s.id for s in subnets],
        "association.association-id": [association_id(s) for s in subnets],
        "association.network-acl-id": [acl.id] if subnets else [],
        "entry.cidr": [e.cidr for e in acl.entries],
        "entry.egress": [text(e.egress) for e in acl.entries],
        "entry.protocol": [e.protocol for e in acl.entries],
        "entry.rule-action": [action(e) for e in acl.entries],
        "entry.rule-number": [str(e.number) for e in acl.entries],
        **tag_fields(acl.tags),
    }  # fmt: skip
