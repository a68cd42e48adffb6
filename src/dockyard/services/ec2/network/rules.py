"""Security group rules from `IpPermissions` (one rule per protocol, port range and peer), and
back: the `IpPermissions` view of a group and the `SecurityGroupRules` view of each rule."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dockyard.services.ec2.errors import InvalidParameterValue, invalid, missing
from dockyard.services.ec2.filters import text
from dockyard.services.ec2.ids import new_id
from dockyard.services.ec2.network.model import Direction, Rule
from dockyard.services.ec2.tags import to_wire

NAMES = {"tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}
BY_NUMBER = {number: name for name, number in NAMES.items()}
MAX_DESCRIPTION = 255

# A referenced group, by id, checked to exist by the caller.
GroupLookup = Callable[[Mapping[str, Any]], str]


def protocol(value: object) -> str:
    """`tcp`, `TCP`, `6` -> `tcp`; `all`/`-1` -> `-1`; other numbers 0-255 as given."""
    if value is None or value == "":
        raise missing("IpPermissions.IpProtocol")
    raw = str(value).strip().lower()
    if raw in ("-1", "all"):
        return "-1"
    if raw in NAMES:
        return raw
    if raw.isascii() and raw.isdigit() and 0 <= int(raw) <= 255:
        return BY_NUMBER.get(str(int(raw)), str(int(raw)))
    raise invalid("ipProtocol", value, "Invalid protocol: use tcp, udp, icmp, icmpv6, -1 or 0-255.")


def ports(proto: str, permission: Mapping[str, Any]) -> tuple[int | None, int | None]:
    start, end = permission.get("FromPort"), permission.get("ToPort")
    if proto in ("tcp", "udp"):
        if start is None or end is None:
            raise InvalidParameterValue(
                f"Invalid value 'Must specify both from and to ports with TCP/UDP.' for "
                f"portRange (IpProtocol: {proto})"
            )
        if not (0 <= int(start) <= 65535 and 0 <= int(end) <= 65535) or int(start) > int(end):
            raise InvalidParameterValue(
                f"Invalid TCP/UDP port range {start}-{end}: ports are 0-65535, FromPort at "
                "most ToPort (FromPort, ToPort)"
            )
        return int(start), int(end)
    if proto in ("icmp", "icmpv6"):
        kind = -1 if start is None else int(start)
        code = -1 if end is None else int(end)
        if not (-1 <= kind <= 255 and -1 <= code <= 255):
            raise InvalidParameterValue(
                f"Invalid ICMP type {kind} or code {code}: -1 or 0-255 (FromPort, ToPort)"
            )
        return kind, code
    return None, None  # every port of the protocol


def description(value: object) -> str | None:
    if value is None:
        return None
    shown = str(value)
    if len(shown) > MAX_DESCRIPTION:
        raise invalid("description", shown[:40] + "...", f"At most {MAX_DESCRIPTION} characters.")
    return shown


def _cidr(value: object, v6: bool) -> str:
    try:
        net: ipaddress.IPv4Network | ipaddress.IPv6Network = (
            ipaddress.IPv6Network(str(value)) if v6 else ipaddress.IPv4Network(str(value))
        )
    except ValueError as exc:
        name = "cidrIpv6" if v6 else "cidrIp"
        raise invalid(name, value, "This is not a valid CIDR block.") from exc
    return str(net)


def from_permissions(
    permissions: Sequence[Mapping[str, Any]], direction: Direction, group_of: GroupLookup
) -> list[Rule]:
    """The rules of `IpPermissions`; `group_of` resolves a `UserIdGroupPairs` entry."""
    rules: list[Rule] = []
    for permission in permissions:
        proto = protocol(permission.get("IpProtocol"))
        start, end = ports(proto, permission)

        peers: list[dict[str, Any]] = []
        for r in permission.get("IpRanges") or []:
            peers.append(
                {
                    "cidr_ipv4": _cidr(r.get("CidrIp"), False),
                    "description": description(r.get("Description")),
                }
            )
        for r in permission.get("Ipv6Ranges") or []:
            peers.append(
                {
                    "cidr_ipv6": _cidr(r.get("CidrIpv6"), True),
                    "description": description(r.get("Description")),
                }
            )
        for pair in permission.get("UserIdGroupPairs") or []:
            peers.append(
                {"group_id": group_of(pair), "description": description(pair.get("Description"))}
            )
        rules += [Rule(new_id("sgr"), direction, proto, start, end, **peer) for peer in peers]
        for r in permission.get("PrefixListIds") or []:
            raise InvalidParameterValue(
                f"Dockyard has no managed prefix lists (PrefixListIds: {r.get('PrefixListId')})."
            )
        if not any(permission.get(k) for k in ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs")):
            raise missing("IpPermissions.IpRanges, Ipv6Ranges or UserIdGroupPairs")
    return rules


def _port_fields(rule: Rule) -> dict[str, Any]:
    if rule.protocol == "-1":
        return {}
    if rule.from_port is None:
        return {"FromPort": -1, "ToPort": -1} if rule.protocol not in ("tcp", "udp") else {}
    return {"FromPort": rule.from_port, "ToPort": rule.to_port}


def to_permissions(rules: Sequence[Rule], owner: str, vpc_id: str) -> list[dict[str, Any]]:
    """Rules grouped into `IpPermissions` by protocol and port range, in rule order."""
    grouped: dict[tuple[str, int | None, int | None], dict[str, Any]] = {}
    for r in rules:
        key = (r.protocol, r.from_port, r.to_port)
        entry = grouped.setdefault(
            key,
            {
                "IpProtocol": r.protocol,
                **_port_fields(r),
                "IpRanges": [],
                "Ipv6Ranges": [],
                "UserIdGroupPairs": [],
                "PrefixListIds": [],
            },
        )
        described = {"Description": r.description} if r.description is not None else {}
        if r.cidr_ipv4:
            entry["IpRanges"].append({"CidrIp": r.cidr_ipv4, **described})
        elif r.cidr_ipv6:
            entry["Ipv6Ranges"].append({"CidrIpv6": r.cidr_ipv6, **described})
        elif r.group_id:
            entry["UserIdGroupPairs"].append(
                {"GroupId": r.group_id, "UserId": owner, "VpcId": vpc_id, **described}
            )
    return list(grouped.values())


def to_rule(rule: Rule, group_id: str, owner: str, region: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "SecurityGroupRuleId": rule.id,
        "GroupId": group_id,
        "GroupOwnerId": owner,
        "IsEgress": rule.direction == Direction.EGRESS,
        "IpProtocol": rule.protocol,
        "FromPort": -1 if rule.from_port is None else rule.from_port,
        "ToPort": -1 if rule.to_port is None else rule.to_port,
        "Tags": to_wire(rule.tags),
        "SecurityGroupRuleArn": f"arn:aws:ec2:{region}:{owner}:security-group-rule/{rule.id}",
    }
    if rule.cidr_ipv4:
        out["CidrIpv4"] = rule.cidr_ipv4
    if rule.cidr_ipv6:
        out["CidrIpv6"] = rule.cidr_ipv6
    if rule.group_id:
        out["ReferencedGroupInfo"] = {"GroupId": rule.group_id, "UserId": owner}
    if rule.description is not None:
        out["Description"] = rule.description
    return out


def rule_fields(rule: Rule, group_id: str) -> dict[str, list[str]]:
    return {
        "group-id": [group_id],
        "security-group-rule-id": [rule.id],
        "is-egress": [text(rule.direction == Direction.EGRESS)],
        "ip-protocol": [rule.protocol],
    }


def describe_peer(rule: Rule) -> str:
    """`peer: 0.0.0.0/0, TCP, from port: 80, to port: 80, ALLOW`, as EC2's duplicate error."""
    span = (
        "" if rule.from_port is None else f", from port: {rule.from_port}, to port: {rule.to_port}"
    )
    proto = "ALL" if rule.protocol == "-1" else rule.protocol.upper()
    return f"peer: {rule.peer}, {proto}{span}, ALLOW"
