from __future__ import annotations

import pytest

from dockyard.core.hosts import IngressRule
from dockyard.hosts.rules import restore_text, rule_lines

C = "DYHOST-INGRESS"
HEAD = [f"-A {C} -i lo -j ACCEPT", f"-A {C} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT"]


def test_no_rules_drops_all_but_loopback_and_replies() -> None:
    assert rule_lines(C, []) == [*HEAD, f"-A {C} -j DROP"]


@pytest.mark.parametrize(
    ("rule", "lines"),
    [
        (
            IngressRule("tcp", 80, 80, ("0.0.0.0/0",)),
            [f"-A {C} -s 0.0.0.0/0 -p tcp --dport 80 -j ACCEPT"],
        ),
        (
            IngressRule("udp", 1000, 2000, ("10.0.0.5/32",)),
            [f"-A {C} -s 10.0.0.5/32 -p udp --dport 1000:2000 -j ACCEPT"],
        ),
        (IngressRule("6", 0, 65535, ("10.0.0.0/16",)), [f"-A {C} -s 10.0.0.0/16 -p tcp -j ACCEPT"]),
        (
            IngressRule("-1", -1, -1, ("10.0.0.0/8", "10.0.0.0/8")),
            [f"-A {C} -s 10.0.0.0/8 -j ACCEPT"],
        ),
        (IngressRule("icmp", -1, -1, ("0.0.0.0/0",)), [f"-A {C} -s 0.0.0.0/0 -p icmp -j ACCEPT"]),
        (
            IngressRule("icmp", 8, -1, ("0.0.0.0/0",)),
            [f"-A {C} -s 0.0.0.0/0 -p icmp --icmp-type 8 -j ACCEPT"],
        ),
        (
            IngressRule("icmp", 3, 4, ("0.0.0.0/0",)),
            [f"-A {C} -s 0.0.0.0/0 -p icmp --icmp-type 3/4 -j ACCEPT"],
        ),
        (
            IngressRule("47", -1, -1, ("192.168.1.7/24",)),
            [f"-A {C} -s 192.168.1.0/24 -p 47 -j ACCEPT"],
        ),
        (IngressRule("tcp", 22, 22, ()), []),
    ],
)
def test_a_rule_accepts_its_sources(rule: IngressRule, lines: list[str]) -> None:
    assert rule_lines(C, [rule]) == [*HEAD, *lines, f"-A {C} -j DROP"]


@pytest.mark.parametrize(
    "rule",
    [
        IngressRule("sctp", 1, 1, ("0.0.0.0/0",)),
        IngressRule("tcp", 100, 50, ("0.0.0.0/0",)),
        IngressRule("tcp", 1, 70000, ("0.0.0.0/0",)),
        IngressRule("tcp", 22, 22, ("10.0.0.300/32",)),
        IngressRule("icmp", 300, -1, ("0.0.0.0/0",)),
    ],
)
def test_invalid_rules_are_refused(rule: IngressRule) -> None:
    with pytest.raises(ValueError):
        rule_lines(C, [rule])


def test_restore_text_declares_the_chain_so_it_is_replaced() -> None:
    text = restore_text(C, [])
    assert text.splitlines()[:2] == ["*filter", f":{C} - [0:0]"]
    assert text.endswith("COMMIT\n")
