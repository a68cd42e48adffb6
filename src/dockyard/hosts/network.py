"""A micro-host's network, with pyroute2: one bridge per VPC (`dyvpc-<hash>`) holding the
router address of each subnet that has hosts (`network + 1`, the VPC router of AWS), and per
host a network namespace `dyhost-<instance id>` whose `eth0` (the host's MAC and private
address, default route via its subnet's router, `lo` up) is one end of a veth pair whose
other end (`dyh<hash>`) is a port of the bridge. Blocking: call from a worker thread.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import subprocess
from pathlib import Path

from dockyard.core.hosts import HostAddress
from dockyard.hosts import naming

log = logging.getLogger(__name__)

NETNS_DIR = Path("/var/run/netns")


def available() -> bool:
    return os.geteuid() == 0 and Path("/proc/self/ns/net").exists()


def ensure_metadata_address() -> None:
    """169.254.169.254/32 on this machine's `lo`, so hosts reach it by their default route
    (the metadata service, and the server's API for agents, listen there)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(family=2)}
        if naming.METADATA_ADDRESS in have:
            return
        index = ipr.link_lookup(ifname="lo")[0]
        with contextlib.suppress(Exception):  # someone else may have added it meanwhile
            ipr.addr("add", index=index, address=naming.METADATA_ADDRESS, prefixlen=32)


def netns_path(instance_id: str) -> str:
    return str(NETNS_DIR / naming.netns_name(instance_id))


def ensure_bridge(vpc_id: str, subnet_cidr: str) -> str:
    """The VPC's bridge, up, with the subnet's router address on it; returns its name.

    Its MAC address is pinned: a bridge whose address the kernel chose takes the lowest
    address of its ports, so each host that joins could change the router's MAC under the
    hosts already there, whose ARP caches then point at an address nobody answers to (their
    connections stall until the entry goes stale, tens of seconds)."""
    from pyroute2 import IPRoute

    name = naming.bridge_name(vpc_id)
    router = naming.router_address(subnet_cidr)
    prefix = ipaddress.IPv4Network(subnet_cidr, strict=False).prefixlen
    with IPRoute() as ipr:
        found = ipr.link_lookup(ifname=name)
        if not found:
            with contextlib.suppress(Exception):  # a concurrent boot may have made it
                ipr.link("add", ifname=name, kind="bridge")
            found = ipr.link_lookup(ifname=name)
        index = found[0]
        if not _address_pinned(name):  # set to what it is now: it stays that from here on
            current = ipr.get_links(index)[0].get_attr("IFLA_ADDRESS")
            ipr.link("set", index=index, address=current)
        have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=index, family=2)}
        if router not in have:
            with contextlib.suppress(Exception):
                ipr.addr("add", index=index, address=router, prefixlen=prefix)
        ipr.link("set", index=index, state="up")
    return name


def _address_pinned(ifname: str) -> bool:
    """Whether the interface's MAC was set explicitly (`NET_ADDR_SET`), not by the kernel."""
    try:
        return Path(f"/sys/class/net/{ifname}/addr_assign_type").read_text().strip() == "3"
    except OSError:
        return False


def drop_router(vpc_id: str, subnet_cidr: str) -> None:
    """Take a subnet's router address off the VPC's bridge (its last host went)."""
    from pyroute2 import IPRoute

    name = naming.bridge_name(vpc_id)
    prefix = ipaddress.IPv4Network(subnet_cidr, strict=False).prefixlen
    with IPRoute() as ipr:
        found = ipr.link_lookup(ifname=name)
        if found:
            with contextlib.suppress(Exception):
                ipr.addr(
                    "del", index=found[0], address=naming.router_address(subnet_cidr),
                    prefixlen=prefix,
                )  # fmt: skip


def remove_bridge(vpc_id: str) -> None:
    from pyroute2 import IPRoute

    name = naming.bridge_name(vpc_id)
    with IPRoute() as ipr:
        if ipr.link_lookup(ifname=name):
            with contextlib.suppress(Exception):
                ipr.link("del", ifname=name)


def bridge_exists(vpc_id: str) -> bool:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        return bool(ipr.link_lookup(ifname=naming.bridge_name(vpc_id)))


def create(instance_id: str, address: HostAddress) -> str:
    """The host's namespace with its `eth0` on the VPC's bridge; returns the namespace path.
    Idempotent: an existing, wired namespace is left as it is."""
    return attach(instance_id, address, ensure_bridge(address.vpc_id, address.subnet_cidr))


def attach(instance_id: str, address: HostAddress, bridge: str) -> str:
    """`create` on a bridge that exists (`ensure_bridge`): touches nothing another host
    shares, so hosts can be attached side by side."""
    from pyroute2 import IPRoute, NetNS, netns

    name = naming.netns_name(instance_id)
    if name not in netns.listnetns():
        netns.create(name)
    ns = NetNS(name)
    try:
        ns.link("set", index=ns.link_lookup(ifname="lo")[0], state="up")
        wired = bool(ns.link_lookup(ifname="eth0"))
    finally:
        ns.close()
    if wired:
        return netns_path(instance_id)
    host_if = naming.veth_name(instance_id)
    peer_if = "dp" + host_if[len(naming.VETH_PREFIX) :]
    with IPRoute() as ipr:
        if ipr.link_lookup(ifname=host_if):
            ipr.link("del", ifname=host_if)
        ipr.link("add", ifname=host_if, kind="veth", peer={"ifname": peer_if, "net_ns_fd": name})
        index = ipr.link_lookup(ifname=host_if)[0]
        ipr.link("set", index=index, master=ipr.link_lookup(ifname=bridge)[0], state="up")
        with contextlib.suppress(Exception):  # a reused address must not reach an old MAC
            ipr.neigh("del", dst=address.private_ip, ifindex=ipr.link_lookup(ifname=bridge)[0])
    prefix = ipaddress.IPv4Network(address.subnet_cidr, strict=False).prefixlen
    ns = NetNS(name)
    try:
        peer = ns.link_lookup(ifname=peer_if)[0]
        ns.link("set", index=peer, ifname="eth0", address=address.mac)
        ns.addr("add", index=peer, address=address.private_ip, prefixlen=prefix)
        ns.link("set", index=peer, state="up")
        ns.route("add", dst="default", gateway=naming.router_address(address.subnet_cidr))
    finally:
        ns.close()
    _ipv4_only(netns_path(instance_id))
    return netns_path(instance_id)


def _ipv4_only(path: str) -> None:
    """Hosts have IPv4 addresses only, and security groups filter IPv4: no IPv6 at all
    (not even link-local), so nothing reaches a host around its rules."""
    script = "for f in /proc/sys/net/ipv6/conf/*/disable_ipv6; do echo 1 > $f; done"
    done = subprocess.run(
        ["nsenter", f"--net={path}", "--", "/bin/sh", "-c", script],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    if done.returncode != 0 and Path("/proc/sys/net/ipv6").exists():
        raise OSError(f"cannot turn IPv6 off in {path}: {done.stderr.strip()}")


def any_bridge() -> bool:
    """Whether this machine has any VPC bridge (of any state directory's hosts)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        return any(
            str(link.get_attr("IFLA_IFNAME")).startswith(naming.BRIDGE_PREFIX)
            for link in ipr.get_links()
        )


def linked_namespaces(instance_id: str) -> list[str]:
    """Named network namespaces that a veth joins to the host's (those its agent made for
    bridge and awsvpc tasks): they go with the host."""
    path = netns_path(instance_id)
    if not Path(path).exists():
        return []

    def ip_json(*args: str) -> list[dict[str, object]]:
        done = subprocess.run(
            ["nsenter", f"--net={path}", "--", "ip", "-j", *args],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        try:
            found = json.loads(done.stdout or "[]")
        except ValueError:
            return []
        return [entry for entry in found if isinstance(entry, dict)]

    links = ip_json("link", "show", "type", "veth")
    ids = {entry["link_netnsid"] for entry in links if entry.get("link_netnsid") is not None}
    return [
        str(entry["name"])
        for entry in ip_json("netns", "list")
        if entry.get("id") in ids and not str(entry.get("name")).startswith(naming.NETNS_PREFIX)
    ]


def destroy(instance_id: str) -> None:
    from pyroute2 import IPRoute, netns

    name = naming.netns_name(instance_id)
    for task_ns in linked_namespaces(instance_id):
        try:
            netns.remove(task_ns)
        except OSError as exc:
            log.warning("cannot remove network namespace %s: %s", task_ns, exc)
    if name in netns.listnetns():
        try:
            netns.remove(name)
        except OSError as exc:
            log.warning("cannot remove network namespace %s: %s", name, exc)
    with IPRoute() as ipr:  # the veth goes with the namespace; make sure
        host_if = naming.veth_name(instance_id)
        if ipr.link_lookup(ifname=host_if):
            with contextlib.suppress(Exception):
                ipr.link("del", ifname=host_if)


def exists(instance_id: str) -> bool:
    return Path(netns_path(instance_id)).exists()


def foreign_route(vpc_id: str, subnet_cidr: str) -> str | None:
    """A route of this machine (main table, not the default route, not on the VPC's own
    bridge; another VPC's bridge counts) that overlaps the subnet, as `CIDR on DEVICE`; None
    when the subnet is free here."""
    from pyroute2 import IPRoute

    subnet = ipaddress.IPv4Network(subnet_cidr, strict=False)
    with IPRoute() as ipr:
        names = {link["index"]: str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links()}
        for route in ipr.get_routes(family=2, table=254):
            length = int(route["dst_len"])
            dst = route.get_attr("RTA_DST")
            device = names.get(route.get_attr("RTA_OIF"), "?")
            if length == 0 or dst is None or device == naming.bridge_name(vpc_id):
                continue
            network = ipaddress.IPv4Network(f"{dst}/{length}", strict=False)
            if network.overlaps(subnet):
                return f"{network} on {device}"
    return None
