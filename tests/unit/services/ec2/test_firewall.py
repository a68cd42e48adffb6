"""Security groups resolved to a host's ingress rules (pure): CIDRs kept, source groups as
their running members' /32s, a load balancer's group as the subnet's router address too,
protocols and port ranges as EC2 names them, egress and IPv6 left out."""

from __future__ import annotations

from dockyard.core.hosts import IngressRule
from dockyard.services.ec2.instances.firewall import ingress, members, router_address
from dockyard.services.ec2.instances.model import Instance, InstanceState
from dockyard.services.ec2.network.model import Direction, Rule, SecurityGroup, Subnet

ACCOUNT, REGION = "123456789012", "us-east-1"


def instance(iid: str, ip: str, groups: list[str], state: InstanceState) -> Instance:
    return Instance(id=iid, account_id=ACCOUNT, region=REGION, private_ip=ip, group_ids=groups,
                    state=state)  # fmt: skip


def group(gid: str, *rules: Rule) -> SecurityGroup:
    return SecurityGroup(id=gid, account_id=ACCOUNT, region=REGION, rules=list(rules))


def rule(protocol: str, low: int | None, high: int | None, **peer: str) -> Rule:
    return Rule(id="sgr-1", direction=Direction.INGRESS, protocol=protocol, from_port=low,
                to_port=high, **peer)  # type: ignore[arg-type]  # fmt: skip


def test_rules_resolve_to_addresses() -> None:
    web = instance("i-1", "10.0.1.10", ["sg-web"], InstanceState.RUNNING)
    app = instance("i-2", "10.0.1.11", ["sg-app"], InstanceState.RUNNING)
    stopped = instance("i-3", "10.0.1.12", ["sg-app"], InstanceState.STOPPED)
    groups = {
        "sg-web": group(
            "sg-web",
            rule("tcp", 80, 80, cidr_ipv4="0.0.0.0/0"),
            rule("tcp", 8080, 8090, group_id="sg-app"),
            rule("tcp", 9000, 9000, group_id="sg-alb"),
            rule("-1", None, None, group_id="sg-web"),
            rule("icmp", 8, -1, cidr_ipv4="10.0.0.0/16"),
            rule("17", 53, 53, cidr_ipv4="10.0.0.0/16"),
            rule("tcp", 22, 22, cidr_ipv6="::/0"),
            rule("icmpv6", -1, -1, cidr_ipv4="10.0.0.0/16"),
            Rule(id="sgr-2", direction=Direction.EGRESS, protocol="-1", cidr_ipv4="0.0.0.0/0"),
        ),
    }
    held = members([web, app, stopped])
    assert held == {"sg-web": ["10.0.1.10"], "sg-app": ["10.0.1.11"]}
    subnet = Subnet(id="subnet-1", account_id=ACCOUNT, region=REGION, cidr="10.0.1.0/24")
    rules = ingress(web, groups, held, {"sg-alb"}, subnet)
    assert set(rules) == {
        IngressRule("tcp", 80, 80, ("0.0.0.0/0",)),
        IngressRule("tcp", 8080, 8090, ("10.0.1.11/32",)),
        IngressRule("tcp", 9000, 9000, ("10.0.1.1/32",)),
        IngressRule("-1", -1, -1, ("10.0.1.10/32",)),
        IngressRule("icmp", 8, -1, ("10.0.0.0/16",)),
        IngressRule("udp", 53, 53, ("10.0.0.0/16",)),
    }
    assert rules == ingress(web, groups, held, {"sg-alb"}, subnet)  # stable order
    # Without a load balancer using it, a group with no running member lets nothing in.
    assert IngressRule("tcp", 9000, 9000, ("10.0.1.1/32",)) not in ingress(web, groups, held)
    assert router_address("10.0.1.0/24") == "10.0.1.1"
    assert ingress(instance("i-4", "10.0.1.13", ["sg-gone"], InstanceState.RUNNING),
                   groups, held) == ()  # fmt: skip
