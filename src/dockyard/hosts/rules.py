"""Security group rules as iptables rule lines (pure): what `firewall.py` loads with
`iptables-restore --noflush` into the host's own network namespace, so its ingress chain
(`DYHOST-INGRESS`, jumped to from that namespace's INPUT) is replaced in one atomic step."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from dockyard.core.hosts import IngressRule

INGRESS_CHAIN = "DYHOST-INGRESS"
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "tcp": "tcp", "udp": "udp", "icmp": "icmp"}
ALL = ("-1", "all")


def _protocol(rule: IngressRule) -> str | None:
    """iptables' name (or number) of the rule's protocol; None for every protocol."""
    proto = rule.protocol.lower()
    if proto in ALL:
        return None
    if proto in PROTOCOL_NAMES:
        return PROTOCOL_NAMES[proto]
    if proto.isdigit() and 0 <= int(proto) <= 255:
        return proto
    raise ValueError(f"unknown protocol {rule.protocol!r}")


def _ports(rule: IngressRule, protocol: str) -> list[str]:
    if protocol in ("tcp", "udp"):
        low, high = rule.from_port, rule.to_port
        if low < 0 or (low <= 0 and high >= 65535):
            return []
        if not 0 <= low <= high <= 65535:
            raise ValueError(f"invalid port range {low}-{high}")
        return ["--dport", str(low) if low == high else f"{low}:{high}"]
    if protocol == "icmp":
        kind, code = rule.from_port, rule.to_port
        if kind < 0:
            return []
        if kind > 255 or code > 255:
            raise ValueError(f"invalid ICMP type {kind} code {code}")
        return ["--icmp-type", str(kind) if code < 0 else f"{kind}/{code}"]
    return []


def rule_lines(chain: str, rules: Sequence[IngressRule]) -> list[str]:
    """The chain's whole content: the host's own loopback and replies pass, what a rule allows
    passes, the rest drops."""
    lines = [
        f"-A {chain} -i lo -j ACCEPT",
        f"-A {chain} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
    ]
    for rule in rules:
        protocol = _protocol(rule)
        match = [] if protocol is None else ["-p", protocol, *_ports(rule, protocol)]
        for cidr in dict.fromkeys(rule.cidrs):
            source = str(ipaddress.IPv4Network(cidr, strict=False))
            lines.append(" ".join([f"-A {chain}", "-s", source, *match, "-j", "ACCEPT"]))
    lines.append(f"-A {chain} -j DROP")
    return lines


def restore_text(chain: str, rules: Sequence[IngressRule]) -> str:
    """`iptables-restore --noflush` input declaring (so flushing) and refilling the chain."""
    return "\n".join(["*filter", f":{chain} - [0:0]", *rule_lines(chain, rules), "COMMIT", ""])
