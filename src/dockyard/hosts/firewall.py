"""Security groups and the metadata redirect with netfilter (the `iptables` command,
nf_tables or legacy alike). Blocking: call from a worker thread.

Ingress is filtered inside each host's own network namespace: its INPUT jumps to
`DYHOST-INGRESS` (loopback and replies pass, then the security group rules, then DROP), which
catches every source alike: another host on the bridge, this machine, anything routed in.
The chain goes with the namespace.

On this machine, our chains only, all named `DYHOST-*` (nothing else is ever flushed):
- filter `DYHOST-FORWARD`, jumped to first from FORWARD: what comes from a VPC bridge passes
  (hosts' egress is open; bridged traffic between hosts crosses FORWARD when br_netfilter's
  `bridge-nf-call-iptables` is on, as Docker sets it, and FORWARD's policy may be DROP),
  and replies to it;
- nat `DYHOST-IMDS`, jumped to from PREROUTING: per bridge, 169.254.169.254:80 to the
  metadata service's port on the same address.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence

from dockyard.core.hosts import IngressRule
from dockyard.hosts import naming
from dockyard.hosts.rules import INGRESS_CHAIN, restore_text

log = logging.getLogger(__name__)

FORWARD = "DYHOST-FORWARD"
IMDS = "DYHOST-IMDS"
BRIDGES = naming.BRIDGE_PREFIX + "+"


class FirewallError(RuntimeError):
    pass


def _run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        args, input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        log.debug("%s: %s", " ".join(args), done.stderr.strip())
    return done


def _in(netns: str | None, args: list[str]) -> list[str]:
    return args if netns is None else ["nsenter", f"--net={netns}", "--", *args]


def _iptables(*args: str, table: str = "filter", netns: str | None = None) -> bool:
    return _run(_in(netns, ["iptables", "-w", "-t", table, *args])).returncode == 0


def _must(*args: str, table: str = "filter", netns: str | None = None) -> None:
    if not _iptables(*args, table=table, netns=netns):
        raise FirewallError(f"iptables -t {table} {' '.join(args)} failed")


def _chain(name: str, table: str = "filter", netns: str | None = None) -> None:
    if not _iptables("-n", "-L", name, table=table, netns=netns):
        _must("-N", name, table=table, netns=netns)


def _rule(
    chain: str, spec: list[str], table: str = "filter", first: bool = False,
    netns: str | None = None,
) -> None:  # fmt: skip
    if not _iptables("-C", chain, *spec, table=table, netns=netns):
        if first:
            _must("-I", chain, "1", *spec, table=table, netns=netns)
        else:
            _must("-A", chain, *spec, table=table, netns=netns)


def _delete_all(chain: str, spec: list[str], table: str = "filter") -> None:
    while _iptables("-C", chain, *spec, table=table):
        if not _iptables("-D", chain, *spec, table=table):
            break


# -- this machine ---------------------------------------------------------------------------


def ensure_base() -> None:
    """Our chains on this machine and their jumps (idempotent)."""
    _chain(FORWARD)
    _rule(FORWARD, ["-i", BRIDGES, "-j", "ACCEPT"])
    _rule(
        FORWARD, ["-o", BRIDGES, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
                  "-j", "ACCEPT"],
    )  # fmt: skip
    _rule("FORWARD", ["-j", FORWARD], first=True)
    _chain(IMDS, table="nat")
    _rule("PREROUTING", ["-j", IMDS], table="nat", first=True)


def metadata_spec(bridge: str, port: int) -> list[str]:
    return [
        "-i", bridge, "-d", f"{naming.METADATA_ADDRESS}/32", "-p", "tcp", "--dport", "80",
        "-j", "DNAT", "--to-destination", f"{naming.METADATA_ADDRESS}:{port}",
    ]  # fmt: skip


def redirect_metadata(bridge: str, port: int | None) -> None:
    """The bridge's hosts reach the metadata service at 169.254.169.254:80."""
    if port is not None:
        _rule(IMDS, metadata_spec(bridge, port), table="nat")


def forget_bridge(bridge: str) -> None:
    """The bridge's metadata redirects (whatever port they named)."""
    done = _run(["iptables", "-w", "-t", "nat", "-S", IMDS])
    for line in done.stdout.splitlines() if done.returncode == 0 else []:
        words = line.split()
        if words[:2] == ["-A", IMDS] and "-i" in words and words[words.index("-i") + 1] == bridge:
            _iptables("-D", *words[1:], table="nat")


def remove_base() -> None:
    """Our chains on this machine and their jumps (when no host is left); nobody else's."""
    _delete_all("FORWARD", ["-j", FORWARD])
    _delete_all("PREROUTING", ["-j", IMDS], table="nat")
    for chain, table in ((FORWARD, "filter"), (IMDS, "nat")):
        if _iptables("-n", "-L", chain, table=table):
            _iptables("-F", chain, table=table)
            _iptables("-X", chain, table=table)


def machine_chains() -> list[str]:
    """Our chains on this machine, `table/chain` (for inspection and tests)."""
    found = []
    for table in ("filter", "nat"):
        done = _run(["iptables", "-w", "-t", table, "-S"])
        for line in done.stdout.splitlines():
            words = line.split()
            if words[:1] == ["-N"] and words[1].startswith(naming.CHAIN_PREFIX):
                found.append(f"{table}/{words[1]}")
    return found


# -- inside a host ----------------------------------------------------------------------------


def apply(netns: str, rules: Sequence[IngressRule]) -> None:
    """Replace the host's ingress rules in one step (and make sure INPUT jumps to them)."""
    try:
        text = restore_text(INGRESS_CHAIN, rules)
    except ValueError as exc:
        raise FirewallError(str(exc)) from exc
    done = _run(_in(netns, ["iptables-restore", "-w", "--noflush"]), stdin=text)
    if done.returncode != 0:
        raise FirewallError(f"cannot load the ingress rules: {done.stderr.strip()}")
    _rule("INPUT", ["-j", INGRESS_CHAIN], first=True, netns=netns)


def host_rules(netns: str) -> list[str]:
    """The host's ingress chain as `iptables -S` prints it (for inspection)."""
    done = _run(_in(netns, ["iptables", "-w", "-S", INGRESS_CHAIN]))
    return done.stdout.splitlines() if done.returncode == 0 else []
