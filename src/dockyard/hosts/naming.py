"""Names and addresses of a micro-host's pieces, derived from its spec alone (pure).

Interface names are at most 15 characters (IFNAMSIZ - 1), so they carry a short hash:
`dyvpc-<9 hex>` for a VPC's bridge, `dyh<12 hex>` for the machine's end of a host's veth.
"""

from __future__ import annotations

import hashlib
import ipaddress
import shlex

BRIDGE_PREFIX = "dyvpc-"
VETH_PREFIX = "dyh"
NETNS_PREFIX = "dyhost-"
CHAIN_PREFIX = "DYHOST-"
METADATA_ADDRESS = "169.254.169.254"


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def bridge_name(vpc_id: str) -> str:
    return BRIDGE_PREFIX + _digest(vpc_id, 9)


def veth_name(instance_id: str) -> str:
    return VETH_PREFIX + _digest(instance_id, 12)


def netns_name(instance_id: str) -> str:
    return NETNS_PREFIX + instance_id


def chain_name(instance_id: str) -> str:
    """The host's own filter chain (iptables chain names are at most 28 characters)."""
    return CHAIN_PREFIX + _digest(instance_id, 16).upper()


def router_address(subnet_cidr: str) -> str:
    """The VPC router of a subnet: its first usable address (AWS's `network + 1`)."""
    network = ipaddress.IPv4Network(subnet_cidr, strict=False)
    return str(network.network_address + 1)


def check_address(subnet_cidr: str, private_ip: str) -> None:
    """Raise ValueError unless `private_ip` is a host address of the subnet other than its
    router."""
    network = ipaddress.IPv4Network(subnet_cidr, strict=False)
    address = ipaddress.IPv4Address(private_ip)
    if address not in network or address in (network.network_address, network.broadcast_address):
        raise ValueError(f"{private_ip} is not a host address of {subnet_cidr}")
    if str(address) == router_address(subnet_cidr):
        raise ValueError(f"{private_ip} is the router of {subnet_cidr}")


def check_mac(mac: str) -> str:
    parts = mac.lower().split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdef" for c in p)
                                  for p in parts):  # fmt: skip
        raise ValueError(f"{mac!r} is not a MAC address")
    if int(parts[0], 16) & 1:
        raise ValueError(f"{mac} is a multicast MAC address")
    return ":".join(parts)


def script_argv(user_data: bytes, path: str) -> list[str]:
    """How a user data script at `path` runs: its `#!` line (interpreter and one optional
    argument, as the kernel reads it), else /bin/sh."""
    if user_data.startswith(b"#!"):
        line = user_data[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        words = line.split(None, 1)
        if words:
            return [*words, path]
    return ["/bin/sh", path]


def agent_argv(
    python: str, server_url: str, cluster: str, data_dir: str, time_scale: float = 1.0
) -> list[str]:
    argv = [
        python, "-m", "dockyard", "agent",
        "--server", server_url,
        "--cluster", cluster,
        "--runtime", "process",
        "--data-dir", data_dir,
    ]  # fmt: skip
    if time_scale != 1.0:
        argv += ["--time-scale", repr(time_scale)]
    return argv


def launch_argv(argv: list[str], *, netns: str, hostname: str, procs_file: str | None) -> list[str]:
    """`argv` run inside the host: in its network namespace (`netns`, a path), in a UTS
    namespace of its own named `hostname`, and first (when `procs_file` is given, a cgroup's
    `cgroup.procs`) moved into the host's cgroup, so that every process it ever starts stays
    findable. Each stage `exec`s the next: the process started is the boot program itself."""
    inner = [
        "nsenter", f"--net={netns}", "--",
        "unshare", "--uts", "--",
        "/bin/sh", "-c", 'hostname "$1" 2>/dev/null; shift; exec "$@"', "dyhost", hostname,
        *argv,
    ]  # fmt: skip
    if procs_file is None:
        return inner
    return ["/bin/sh", "-c", 'echo $$ > "$1" || exit 125; shift; exec "$@"', "dyhost",
            procs_file, *inner]  # fmt: skip


def describe(argv: list[str]) -> str:
    return shlex.join(argv)


def overlaps(cidr: str, other: str) -> bool:
    return ipaddress.IPv4Network(cidr, strict=False).overlaps(
        ipaddress.IPv4Network(other, strict=False)
    )
