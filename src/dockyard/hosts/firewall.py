"""Security groups with netfilter (the `iptables` command, nf_tables or legacy alike).

Our chains only, all named `DYHOST-...`:
- filter `DYHOST-FORWARD`, jumped to first from FORWARD: traffic to a host (`DYHOST-INGRESS`),
  then traffic from any VPC bridge (hosts' egress is open, as a default security group's);
- filter `DYHOST-INGRESS`, jumped to from DYHOST-FORWARD and from OUTPUT (this machine's own
  connections to hosts): one rule per host, `-o <its bridge> -d <its address>` to its chain;
- filter `DYHOST-<hash>` per host: replies (ESTABLISHED,RELATED), the security group rules,
  then DROP. Bridged traffic between hosts of one VPC passes FORWARD too (br_netfilter's
  `bridge-nf-call-iptables`, which Docker turns on; `ensure_base` turns it on otherwise).
- nat `DYHOST-IMDS`, jumped to from PREROUTING: 169.254.169.254:80 from any VPC bridge to the
  metadata service's own address and port.
Blocking: call from a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path

from dockyard.core.hosts import IngressRule
from dockyard.hosts import naming
from dockyard.hosts.rules import restore_text

log = logging.getLogger(__name__)

FORWARD = "DYHOST-FORWARD"
INGRESS = "DYHOST-INGRESS"
IMDS = "DYHOST-IMDS"
BRIDGES = naming.BRIDGE_PREFIX + "+"
BRIDGE_NF = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")


class FirewallError(RuntimeError):
    pass


def _run(args: list[str], stdin: str | None = None) -> bool:
    done = subprocess.run(
        args, input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        log.debug("%s: %s", " ".join(args), done.stderr.strip())
    return done.returncode == 0


def _iptables(*args: str, table: str = "filter") -> bool:
    return _run(["iptables", "-w", "-t", table, *args])


def _must(*args: str, table: str = "filter") -> None:
    if not _iptables(*args, table=table):
        raise FirewallError(f"iptables -t {table} {' '.join(args)} failed")


def _chain(name: str, table: str = "filter") -> None:
    if not _iptables("-n", "-L", name, table=table):
        _must("-N", name, table=table)


def _rule(chain: str, spec: list[str], table: str = "filter", first: bool = False) -> None:
    if not _iptables("-C", chain, *spec, table=table):
        if first:
            _must("-I", chain, "1", *spec, table=table)
        else:
            _must("-A", chain, *spec, table=table)


def ensure_base(metadata: tuple[str, int] | None) -> None:
    """Our dispatch chains and their jumps; the metadata DNAT to `metadata` (address, port)."""
    if BRIDGE_NF.exists():
        with contextlib.suppress(OSError):
            if BRIDGE_NF.read_text().strip() != "1":
                BRIDGE_NF.write_text("1")
    else:
        _run(["modprobe", "br_netfilter"])
    _chain(INGRESS)
    _chain(FORWARD)
    _rule(FORWARD, ["-j", INGRESS])
    _rule(FORWARD, ["-i", BRIDGES, "-j", "ACCEPT"])
    _rule("FORWARD", ["-j", FORWARD], first=True)
    _rule("OUTPUT", ["-j", INGRESS], first=True)
    _chain(IMDS, table="nat")
    _must("-F", IMDS, table="nat")
    if metadata is not None:
        address, port = metadata
        _must(
            "-A", IMDS, "-i", BRIDGES, "-d", f"{naming.METADATA_ADDRESS}/32", "-p", "tcp",
            "--dport", "80", "-j", "DNAT", "--to-destination", f"{address}:{port}",
            table="nat",
        )  # fmt: skip
    _rule("PREROUTING", ["-j", IMDS], table="nat", first=True)


def attach(instance_id: str, bridge: str, private_ip: str) -> None:
    """The host's chain (dropping all but replies until `apply`), and its dispatch rule."""
    chain = naming.chain_name(instance_id)
    if not _iptables("-n", "-L", chain):
        apply(instance_id, ())
    _rule(INGRESS, ["-o", bridge, "-d", f"{private_ip}/32", "-j", chain])


def apply(instance_id: str, rules: Sequence[IngressRule]) -> None:
    text = restore_text(naming.chain_name(instance_id), rules)
    if not _run(["iptables-restore", "-w", "--noflush"], stdin=text):
        raise FirewallError(f"cannot load the rules of {instance_id}")


def detach(instance_id: str, bridge: str, private_ip: str) -> None:
    chain = naming.chain_name(instance_id)
    spec = ["-o", bridge, "-d", f"{private_ip}/32", "-j", chain]
    while _iptables("-C", INGRESS, *spec):
        _iptables("-D", INGRESS, *spec)
    _iptables("-F", chain)
    _iptables("-X", chain)


def remove_base() -> None:
    """Our dispatch chains and jumps (when no host is left); nobody else's."""
    for chain, spec, table in (
        ("FORWARD", ["-j", FORWARD], "filter"),
        ("OUTPUT", ["-j", INGRESS], "filter"),
        ("PREROUTING", ["-j", IMDS], "nat"),
    ):
        while _iptables("-C", chain, *spec, table=table):
            _iptables("-D", chain, *spec, table=table)
    for chain, table in ((FORWARD, "filter"), (INGRESS, "filter"), (IMDS, "nat")):
        _iptables("-F", chain, table=table)
        _iptables("-X", chain, table=table)


def chain_rules(instance_id: str) -> list[str]:
    """The host's chain as `iptables -S` prints it (for inspection)."""
    done = subprocess.run(
        ["iptables", "-w", "-S", naming.chain_name(instance_id)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    return done.stdout.splitlines() if done.returncode == 0 else []
