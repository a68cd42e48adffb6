from __future__ import annotations

from dockyard.hosts import firewall


def test_the_metadata_redirect_of_a_bridge() -> None:
    assert firewall.metadata_spec("dyvpc-abc", 8123) == [
        "-i", "dyvpc-abc", "-d", "169.254.169.254/32", "-p", "tcp", "--dport", "80",
        "-j", "DNAT", "--to-destination", "169.254.169.254:8123",
    ]  # fmt: skip


def test_our_chains_are_named_ours() -> None:
    assert firewall.FORWARD.startswith("DYHOST-") and firewall.IMDS.startswith("DYHOST-")
    assert firewall.BRIDGES == "dyvpc-+"
