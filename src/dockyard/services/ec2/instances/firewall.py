"""What each running instance's security groups let in, resolved to addresses for the
machine's firewall (`HostRuntime.firewall`). Pure.

A rule naming a CIDR keeps it (IPv4 only: hosts have no IPv6); a rule naming a source group
becomes the /32 of every running member of that group; a source group that a load balancer
uses also lets in the router address of the instance's subnet, since this machine's own
traffic (the load balancers' listeners, health checks) reaches a host from there. A rule
naming the VPC CIDR lets that traffic in as it does any other address of the VPC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Mapping

from dockyard.core.hosts import IngressRule
from dockyard.services.ec2.instances.model import Instance, InstanceState
from dockyard.services.ec2.network.model import Direction, Rule, SecurityGroup, Subnet

PROTOCOLS = {"-1": "-1", "tcp": "tcp", "udp": "udp", "icmp": "icmp", "6": "tcp", "17": "udp",
             "1": "icmp"}  # fmt: skip
UNSUPPORTED = ("icmpv6", "58")  # IPv6 only


def router_address(subnet_cidr: str) -> str:
    """The subnet's router (its network address + 1, as AWS's VPC router)."""
    network = ipaddress.IPv4Network(subnet_cidr, strict=False)
    return str(network.network_address + 1)


def members(instances: Iterable[Instance]) -> dict[str, list[str]]:
    """Each security group's running members' private addresses."""
    out: dict[str, list[str]] = {}
    for instance in instances:
        if instance.state == InstanceState.RUNNING:
            for group_id in instance.group_ids:
                out.setdefault(group_id, []).append(instance.private_ip)
    return {g: sorted(addresses) for g, addresses in out.items()}


def _sources(rule: Rule, members: Mapping[str, list[str]], balancer_groups: Collection[str],
             router: str | None) -> tuple[str, ...]:  # fmt: skip
    if rule.cidr_ipv4:
        return (rule.cidr_ipv4,)
    if rule.group_id:
        found = [f"{address}/32" for address in members.get(rule.group_id, [])]
        if rule.group_id in balancer_groups and router is not None:
            found.append(f"{router}/32")
        return tuple(found)
    return ()  # IPv6 and prefix lists reach no host


def _rule(rule: Rule, cidrs: tuple[str, ...]) -> IngressRule | None:
    protocol = PROTOCOLS.get(rule.protocol.lower(), rule.protocol)
    if protocol in UNSUPPORTED or not cidrs:
        return None
    if protocol == "-1":
        return IngressRule("-1", -1, -1, cidrs)
    low = -1 if rule.from_port is None else rule.from_port
    high = -1 if rule.to_port is None else rule.to_port
    if protocol in ("tcp", "udp") and low < 0:
        low, high = 0, 65535
    return IngressRule(protocol, low, high, cidrs)


def ingress(
    instance: Instance,
    groups: Mapping[str, SecurityGroup],
    members: Mapping[str, list[str]],
    balancer_groups: Collection[str] = (),
    subnet: Subnet | None = None,
) -> tuple[IngressRule, ...]:
    """The ingress rules of the instance's groups, sources resolved; sorted, so two
    resolutions of the same rules compare equal."""
    router = router_address(subnet.cidr) if subnet is not None and subnet.cidr else None
    out: set[IngressRule] = set()
    for group_id in instance.group_ids:
        group = groups.get(group_id)
        if group is None:
            continue
        for rule in group.rules:
            if rule.direction != Direction.INGRESS:
                continue
            resolved = _rule(rule, _sources(rule, members, balancer_groups, router))
            if resolved is not None:
                out.add(resolved)
    return tuple(sorted(out, key=lambda r: (r.protocol, r.from_port, r.to_port, r.cidrs)))
