"""`LocalHosts`: EC2 instances as micro-hosts on this machine (the `core.hosts.HostRuntime`
that the EC2 service drives). A host is a network namespace on its VPC's bridge, its own
process tree (the boot program started in a session, a UTS namespace and a cgroup of its
own, so it outlives a server restart), and netfilter rules for its security groups. What a
new server process needs to find it again is in `<state dir>/<id>/host.json`.

Hosts boot side by side: what changes the machine's shared network (the checks against
other VPCs and routes, the VPC's bridge and router address, the metadata redirect) is done
one host at a time under a lock; the host's own namespace and veth, its rules and starting
its boot program are not. Everything that reads /proc, /sys or the state directory runs in
a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.core.hosts import BootKind, HostError, HostSpec, IngressRule
from dockyard.hosts import firewall, naming, network, procs, records
from dockyard.hosts.records import HostRecord

log = logging.getLogger(__name__)

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONSOLE = "console.log"
USER_DATA = "user-data"


class LocalHosts:
    def __init__(
        self,
        state_dir: Path,
        *,
        agent_server_url: str,
        metadata_port: int | None,
        python: str = sys.executable,
        grace: float = 10.0,
        time_scale: float = 1.0,
    ) -> None:
        self.state_dir = state_dir
        self.agent_server_url = agent_server_url
        self.metadata_port = metadata_port
        self.python = python
        self.grace = grace
        self.time_scale = time_scale  # the server's: its agents' heartbeats keep pace
        self._lock = asyncio.Lock()  # one change of the machine's network at a time
        self._children: dict[str, subprocess.Popen[bytes]] = {}  # reaped when they exit
        self._booting: set[str] = set()  # claimed, boot program not started yet

    # -- the HostRuntime ------------------------------------------------------------------------

    async def prepare(self) -> None:
        """What every host needs of this machine: 169.254.169.254 on `lo` and our chains.
        `boot` does it too; the composition root may call it before listening there."""
        if not network.available():
            raise HostError("micro-hosts need root (network namespaces, netfilter)")
        await asyncio.to_thread(self._prepare)

    async def boot(self, spec: HostSpec) -> None:
        await self.prepare()
        iid = spec.instance_id
        async with self._lock:  # the machine's shared network: one host at a time
            planned = await asyncio.to_thread(self._claim, spec)
            if planned is None:
                return
            self._booting.add(iid)  # counts as running for the overlap checks of others
        try:
            await asyncio.to_thread(self._start, spec, planned)
        finally:
            self._booting.discard(iid)

    async def halt(self, instance_id: str, force: bool = False) -> None:
        record = await asyncio.to_thread(records.load, self.state_dir, instance_id)
        if record is None:
            return
        netns = network.netns_path(instance_id)
        pids = await asyncio.to_thread(procs.members, instance_id, netns)
        if pids and not force:
            await asyncio.to_thread(procs.signal_all, pids, signal.SIGTERM)
            pids = await self._wait_gone(instance_id, netns, self.grace)
        for _ in range(30):  # a process stuck in the kernel may outlast SIGKILL for a while
            if not pids:
                break
            await asyncio.to_thread(procs.signal_all, pids, signal.SIGKILL)
            pids = await self._wait_gone(instance_id, netns, 1.0)
        else:
            raise HostError(f"processes {sorted(pids)} of {instance_id} survive SIGKILL")
        self._reap(instance_id)
        log.info("host %s halted", instance_id, extra={"instance_id": instance_id})

    async def destroy(self, instance_id: str) -> None:
        await self.halt(instance_id)
        async with self._lock:
            await asyncio.to_thread(self._destroy, instance_id)

    async def running(self, instance_id: str) -> bool:
        self._reap(instance_id)
        return await asyncio.to_thread(self.running_now, instance_id)

    async def hosts(self) -> list[str]:
        return await asyncio.to_thread(self.hosts_now)

    async def firewall(self, instance_id: str, rules: Sequence[IngressRule]) -> None:
        async with self._lock:
            await asyncio.to_thread(self._firewall, instance_id, list(rules))

    # -- beyond the contract ----------------------------------------------------------------------

    def running_now(self, instance_id: str) -> bool:
        """`running`, blocking (reads /proc): for worker threads and scripts."""
        record = records.load(self.state_dir, instance_id)
        if record is None or not network.exists(instance_id):
            return False
        if record.pid is not None and procs.alive(record.pid, record.started):
            return True
        return bool(procs.members(instance_id, network.netns_path(instance_id)))

    def hosts_now(self) -> list[str]:
        """`hosts`, blocking (reads the state directory): for worker threads and scripts."""
        return [record.instance_id for record in records.load_all(self.state_dir)]

    def console_output(self, instance_id: str) -> bytes:
        """What the host's boot program wrote (EC2's GetConsoleOutput)."""
        try:
            return (records.host_dir(self.state_dir, instance_id) / CONSOLE).read_bytes()
        except OSError:
            return b""

    def processes(self, instance_id: str) -> set[int]:
        """Pids of every live process of the host."""
        return procs.members(instance_id, network.netns_path(instance_id))

    def netns(self, instance_id: str) -> str:
        return network.netns_path(instance_id)

    # -- blocking parts (worker threads) ----------------------------------------------------------

    def _prepare(self) -> None:
        try:
            network.ensure_metadata_address()
            firewall.ensure_base()
        except Exception as exc:
            raise HostError(f"cannot prepare this machine for micro-hosts: {exc}") from exc

    def _claim(self, spec: HostSpec) -> _Planned | None:
        """Under the lock: check the host against the machine, record it and make what it
        shares with other hosts (its VPC's bridge, the metadata redirect). None: it runs."""
        iid = spec.instance_id
        address = spec.address
        try:
            naming.check_address(address.subnet_cidr, address.private_ip)
            naming.check_mac(address.mac)
        except ValueError as exc:
            raise HostError(str(exc)) from exc
        existing = records.load(self.state_dir, iid)
        if existing is not None and self.running_now(iid):
            return None
        others = [r for r in records.load_all(self.state_dir) if r.instance_id != iid]
        self._check_overlaps(spec, others)
        if (taken := network.foreign_route(address.vpc_id, address.subnet_cidr)) is not None:
            raise HostError(
                f"subnet {address.subnet_cidr} of {address.vpc_id} overlaps this machine's "
                f"network {taken}: hosts there would be unreachable"
            )
        record = HostRecord(
            instance_id=iid, image_id=spec.image_id, boot=spec.boot, address=address,
            hostname=spec.hostname, cluster=spec.cluster,
            rules=existing.rules if existing is not None else [],
        )  # fmt: skip
        if spec.rules is not None:
            record.rules = list(spec.rules)
        folder = records.make_dir(records.host_dir(self.state_dir, iid))
        records.save(self.state_dir, record)  # from here on a destroy keeps the bridge
        try:
            bridge = network.ensure_bridge(address.vpc_id, address.subnet_cidr)
            firewall.redirect_metadata(bridge, self.metadata_port)
        except HostError:
            raise
        except Exception as exc:
            raise HostError(f"cannot create the network of {iid}: {exc}") from exc
        return _Planned(record, folder, bridge, fresh=existing is None)

    def _start(self, spec: HostSpec, planned: _Planned) -> None:
        """Outside the lock: the host's own namespace and veth, its rules, its boot program."""
        iid = spec.instance_id
        record, folder = planned.record, planned.folder
        fresh = planned.fresh or not network.exists(iid)
        try:
            netns = network.attach(iid, spec.address, planned.bridge)
            if fresh or spec.rules is not None:  # none yet: all ingress but replies drops
                firewall.apply(netns, record.rules)
        except HostError:
            raise
        except firewall.FirewallError as exc:
            raise HostError(f"cannot apply the security groups of {iid}: {exc}") from exc
        except Exception as exc:
            raise HostError(f"cannot create the network of {iid}: {exc}") from exc
        argv = self._boot_argv(spec, folder)
        cgroup = procs.cgroup_dir(iid)
        launch = naming.launch_argv(
            argv, netns=netns, hostname=spec.hostname,
            procs_file=None if cgroup is None else str(cgroup / "cgroup.procs"),
        )  # fmt: skip
        env = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", **spec.secret_env}
        fd = os.open(folder / CONSOLE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            child = subprocess.Popen(
                launch, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, env=env,
                cwd=folder, start_new_session=True, close_fds=True,
            )  # fmt: skip
        except OSError as exc:
            raise HostError(f"cannot start the boot program of {iid}: {exc}") from exc
        finally:
            os.close(fd)
        self._children[iid] = child
        record.pid, record.started = child.pid, procs.start_time(child.pid)
        records.save(self.state_dir, record)
        _settle(child, iid)
        log.info(
            "host %s booted (%s) at %s: %s", iid, spec.boot, spec.address.private_ip,
            naming.describe(argv), extra={"instance_id": iid},
        )  # fmt: skip

    def _boot_argv(self, spec: HostSpec, folder: Path) -> list[str]:
        if spec.boot is BootKind.ECS_AGENT:
            return naming.agent_argv(
                self.python,
                self.agent_server_url,
                spec.cluster,
                str(folder / "agent"),
                time_scale=self.time_scale,
            )
        script = folder / USER_DATA
        records.write_private(script, spec.user_data, mode=0o700)
        return naming.script_argv(spec.user_data, str(script))

    def _check_overlaps(self, spec: HostSpec, others: list[HostRecord]) -> None:
        """Two VPCs with overlapping CIDRs cannot both have running hosts here. A stopped
        VPC's router addresses come off its bridge, so routing is never ambiguous."""
        mine = spec.address
        parked: list[HostRecord] = []
        for other in others:
            theirs = other.address
            if theirs.vpc_id == mine.vpc_id or not naming.overlaps(theirs.vpc_cidr, mine.vpc_cidr):
                continue
            if other.instance_id in self._booting or self.running_now(other.instance_id):
                raise HostError(
                    f"VPC {mine.vpc_id} ({mine.vpc_cidr}) overlaps VPC {theirs.vpc_id} "
                    f"({theirs.vpc_cidr}), which has running instances on this machine "
                    f"({other.instance_id}): one machine cannot route both"
                )
            parked.append(other)
        for other in parked:
            network.drop_router(other.address.vpc_id, other.address.subnet_cidr)

    def _destroy(self, instance_id: str) -> None:
        record = records.load(self.state_dir, instance_id)
        network.destroy(instance_id)
        procs.remove_cgroup(instance_id)
        folder = records.host_dir(self.state_dir, instance_id)
        procs.forget_task_cgroups(folder / "agent")
        if folder.is_dir():
            _remove_tree(folder)
        if record is None:
            return
        left = records.load_all(self.state_dir)
        vpc = record.address.vpc_id
        if not any(r.address.vpc_id == vpc for r in left):
            firewall.forget_bridge(naming.bridge_name(vpc))
            network.remove_bridge(vpc)
        elif not any(r.address.subnet_cidr == record.address.subnet_cidr for r in left):
            network.drop_router(vpc, record.address.subnet_cidr)
        if not left and not network.any_bridge():  # another server's hosts may need them
            firewall.remove_base()
        log.info("host %s destroyed", instance_id, extra={"instance_id": instance_id})

    def _firewall(self, instance_id: str, rules: list[IngressRule]) -> None:
        record = records.load(self.state_dir, instance_id)
        if record is None:
            raise HostError(f"no host {instance_id} on this machine")
        if network.exists(instance_id):
            try:
                firewall.apply(network.netns_path(instance_id), rules)
            except firewall.FirewallError as exc:
                raise HostError(
                    f"cannot apply the security groups of {instance_id}: {exc}"
                ) from exc
        record.rules = rules
        records.save(self.state_dir, record)

    async def _wait_gone(self, instance_id: str, netns: str, within: float) -> set[int]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            self._reap(instance_id)
            pids = await asyncio.to_thread(procs.members, instance_id, netns)
            if not pids or loop.time() >= deadline:
                return pids
            await asyncio.sleep(0.05)

    def _reap(self, instance_id: str) -> None:
        child = self._children.get(instance_id)
        if child is not None and child.poll() is not None:
            del self._children[instance_id]


@dataclass(slots=True)
class _Planned:
    """What `_claim` made of a host for `_start` to finish."""

    record: HostRecord
    folder: Path
    bridge: str
    fresh: bool  # never booted on this machine: it starts with no rules


def _settle(child: subprocess.Popen[bytes], instance_id: str, within: float = 10.0) -> None:
    """Wait until the boot program has entered the host's namespace (or ended), so that a
    `halt` right after `boot` finds it."""
    deadline = time.monotonic() + within
    while child.poll() is None and not procs.in_host(child.pid, instance_id):
        if time.monotonic() > deadline:
            log.warning("the boot program of %s did not enter its namespace", instance_id)
            return
        time.sleep(0.005)


def _remove_tree(path: Path) -> None:
    import shutil

    try:
        shutil.rmtree(path)
    except OSError as exc:
        log.warning("cannot remove %s: %s", path, exc)
