"""Task network namespaces on the Dockyard bridge, with pyroute2.

Each awsvpc/bridge task gets a namespace `/var/run/netns/dockyard-<key>` whose `eth0` is one
end of a veth pair; the other end is enslaved to the `dockyard0` bridge, on which the host
holds the gateway address, so the task's IP is reachable from the host. `none` tasks get a
namespace with only loopback. Addresses are allocated in a host-wide table
(`/run/dockyard/<bridge>-ipam.json`, under an flock), shared by every agent on the host and
living exactly as long as the namespaces do (both go at reboot), so a restarted agent never
hands out an address a surviving task still uses. Blocking: call from a worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import logging
import os
import time
from collections.abc import Collection, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

BRIDGE = "dockyard0"
SUBNET = ipaddress.IPv4Network("10.213.0.0/16")
NETNS_DIR = Path("/var/run/netns")
STATE_DIR = Path("/run/dockyard")
STALE_AFTER = 120.0  # seconds an address may be held before its namespace exists


def available() -> bool:
    return os.geteuid() == 0 and Path("/proc/self/ns/net").exists()


def key_of(task_arn: str) -> str:
    return hashlib.sha1(task_arn.encode()).hexdigest()[:12]


class HostNetwork:
    def __init__(
        self, bridge: str = BRIDGE, subnet: str | None = None, state_dir: Path | None = None
    ) -> None:
        self.bridge = bridge
        self.subnet = ipaddress.IPv4Network(subnet) if subnet else SUBNET
        self.gateway = str(next(self.subnet.hosts()))
        self._state_dir = state_dir or STATE_DIR
        self._ipam_path = self._state_dir / f"{bridge}-ipam.json"

    # -- addresses ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _table(self) -> Iterator[dict[str, dict[str, object]]]:
        """The address table (ip -> {owner, key, at}), locked against other agents."""
        self._state_dir.mkdir(parents=True, exist_ok=True)
        with open(self._state_dir / f"{self.bridge}-ipam.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                table: dict[str, dict[str, object]] = json.loads(self._ipam_path.read_text())
            except (OSError, ValueError):
                table = {}
            before = json.dumps(table, sort_keys=True)
            yield table
            if json.dumps(table, sort_keys=True) != before:
                tmp = self._ipam_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(table, indent=1, sort_keys=True))
                os.replace(tmp, self._ipam_path)

    def allocate(self, owner: str) -> str:
        key = key_of(owner)
        with self._table() as table:
            now = time.time()
            if not table:  # first use (or a table lost): learn what namespaces already hold
                for ip, held_by in self._addresses_in_use().items():
                    table[ip] = {"owner": f"netns:{held_by}", "key": held_by, "at": 0}
            for ip, entry in list(table.items()):
                if entry.get("owner") == owner:
                    return ip
                stale = now - float(str(entry.get("at", 0))) > STALE_AFTER
                if stale and not self.exists(str(entry.get("key"))):
                    del table[ip]  # its namespace is gone: the address is free again
            for host in self.subnet.hosts():
                ip = str(host)
                if ip != self.gateway and ip not in table:
                    table[ip] = {"owner": owner, "key": key, "at": now}
                    return ip
        raise RuntimeError(f"no free address left in {self.subnet}")

    def _addresses_in_use(self) -> dict[str, str]:
        from pyroute2 import NetNS, netns

        found: dict[str, str] = {}
        for name in netns.listnetns():
            if not name.startswith("dockyard-"):
                continue
            try:
                ns = NetNS(name)
            except Exception:
                continue
            try:
                for addr in ns.get_addr(family=2):
                    ip = addr.get_attr("IFA_ADDRESS")
                    if ip and ipaddress.IPv4Address(ip) in self.subnet:
                        found[ip] = name.removeprefix("dockyard-")
            finally:
                ns.close()
        return found

    def release(self, owner: str) -> None:
        with self._table() as table:
            for ip, entry in list(table.items()):
                if entry.get("owner") == owner:
                    del table[ip]

    # -- links -------------------------------------------------------------------------------

    def ensure_bridge(self) -> None:
        from pyroute2 import IPRoute

        with IPRoute() as ipr:
            found = ipr.link_lookup(ifname=self.bridge)
            if not found:
                with contextlib.suppress(Exception):  # another agent may race us
                    ipr.link("add", ifname=self.bridge, kind="bridge")
                found = ipr.link_lookup(ifname=self.bridge)
            index = found[0]
            have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=index, family=2)}
            if self.gateway not in have:
                ipr.addr("add", index=index, address=self.gateway, prefixlen=self.subnet.prefixlen)
            ipr.link("set", index=index, state="up")

    def netns_path(self, key: str) -> str:
        return str(NETNS_DIR / f"dockyard-{key}")

    def create(self, key: str, address: str | None) -> str:
        """Create namespace `dockyard-<key>` (with `eth0` at `address` when given)."""
        from pyroute2 import IPRoute, NetNS, netns

        name = f"dockyard-{key}"
        if name not in netns.listnetns():
            netns.create(name)
        ns = NetNS(name)
        try:
            lo = ns.link_lookup(ifname="lo")[0]
            ns.link("set", index=lo, state="up")
            if address is None or ns.link_lookup(ifname="eth0"):
                return self.netns_path(key)
        finally:
            ns.close()
        self.ensure_bridge()
        host_if, peer_if = f"dy{key}", f"dp{key}"
        with IPRoute() as ipr:
            if ipr.link_lookup(ifname=host_if):
                ipr.link("del", ifname=host_if)
            ipr.link(
                "add", ifname=host_if, kind="veth", peer={"ifname": peer_if, "net_ns_fd": name}
            )
            index = ipr.link_lookup(ifname=host_if)[0]
            bridge = ipr.link_lookup(ifname=self.bridge)[0]
            ipr.link("set", index=index, master=bridge, state="up")
            self._forget_neighbour(ipr, bridge, address)
        ns = NetNS(name)
        try:
            peer = ns.link_lookup(ifname=peer_if)[0]
            ns.link("set", index=peer, ifname="eth0")
            ns.addr("add", index=peer, address=address, prefixlen=self.subnet.prefixlen)
            ns.link("set", index=peer, state="up")
            ns.route("add", dst="default", gateway=self.gateway)
        finally:
            ns.close()
        return self.netns_path(key)

    @staticmethod
    def _forget_neighbour(ipr: object, bridge: int, address: str) -> None:
        """A reused address must not reach the MAC of the namespace that held it before."""
        with contextlib.suppress(Exception):
            ipr.neigh("del", dst=address, ifindex=bridge)  # type: ignore[attr-defined]

    def destroy(self, key: str) -> None:
        from pyroute2 import IPRoute, netns

        name = f"dockyard-{key}"
        if name in netns.listnetns():
            try:
                netns.remove(name)
            except OSError as exc:
                log.warning("cannot remove network namespace %s: %s", name, exc)
        with IPRoute() as ipr:  # the veth goes with the namespace; make sure
            if ipr.link_lookup(ifname=f"dy{key}"):
                with contextlib.suppress(Exception):
                    ipr.link("del", ifname=f"dy{key}")

    def sweep(
        self,
        min_age: float = STALE_AFTER,
        now: float | None = None,
        keys: Collection[str] | None = None,
    ) -> list[str]:
        """Remove `dockyard-*` namespaces that no process is in any more and that are older
        than `min_age` seconds (a task whose agent died before cleaning up after it: its
        namespace, veth and address would otherwise stay until reboot); only those of `keys`
        when given. Returns their keys."""
        if not NETNS_DIR.is_dir():
            return []
        held = _namespaces_in_use()
        now = time.time() if now is None else now
        removed = []
        for path in NETNS_DIR.glob("dockyard-*"):
            try:
                st = path.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in held or now - st.st_mtime < min_age:
                continue
            key = path.name.removeprefix("dockyard-")
            if keys is not None and key not in keys:
                continue
            self.destroy(key)
            removed.append(key)
        if removed:
            log.info("removed %d network namespaces left by tasks that ended", len(removed))
        return removed

    def exists(self, key: str) -> bool:
        return (NETNS_DIR / f"dockyard-{key}").exists()


def _namespaces_in_use() -> set[tuple[int, int]]:
    """(device, inode) of the network namespace of every process on the machine."""
    held = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            st = os.stat(proc / "ns" / "net")
        except OSError:
            continue
        held.add((st.st_dev, st.st_ino))
    return held
