"""A fleet on one machine: each host is a network namespace with its own address on a test
bridge, running a real `dockyard agent` process inside it."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SUBNET_PREFIX = "10.77.0"
GATEWAY = f"{SUBNET_PREFIX}.1"


def ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True, timeout=20)


@dataclass
class Host:
    name: str  # the network namespace
    address: str
    zone: str
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    extra: list[str] = field(default_factory=list)

    @property
    def netns_inode(self) -> int:
        return os.stat(f"/run/netns/{self.name}").st_ino

    def start_agent(self, server_url: str, cluster: str, time_scale: float) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        cmd = [
            "nsenter", f"--net=/run/netns/{self.name}",
            sys.executable, "-m", "dockyard", "agent",
            "--server", server_url,
            "--cluster", cluster,
            "--data-dir", str(self.data_dir),
            "--runtime", "process",
            "--availability-zone", self.zone,
            "--time-scale", str(time_scale),
            *self.extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill_agent(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def processes(self, marker: str) -> list[int]:
        """Processes in this host's namespace whose command line contains `marker`."""
        found = []
        inode = self.netns_inode
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino != inode:
                    continue
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry))
        return found

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


class Fleet:
    """A bridge on the host and one namespace per host, joined by veth pairs."""

    def __init__(self, root: Path, zones: list[str]) -> None:
        tag = secrets.token_hex(2)
        self.bridge = f"dyfleet{tag}"
        self.hosts = [
            Host(
                name=f"dyfleet-{tag}-{i}",
                address=f"{SUBNET_PREFIX}.{10 + i}",
                zone=zone,
                data_dir=root / f"agent-{i}",
                log_path=root / f"agent-{i}.log",
            )
            for i, zone in enumerate(zones)
        ]
        self._veths = [f"dyf{tag}h{i}" for i in range(len(zones))]

    def create(self) -> None:
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{GATEWAY}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for host, veth in zip(self.hosts, self._veths, strict=True):
            ip("netns", "add", host.name)
            ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", host.name)
            ip("link", "set", veth, "master", self.bridge, "up")
            ip("-n", host.name, "addr", "add", f"{host.address}/24", "dev", "eth0")
            ip("-n", host.name, "link", "set", "eth0", "up")
            ip("-n", host.name, "link", "set", "lo", "up")
            ip("-n", host.name, "route", "add", "default", "via", GATEWAY)

    def destroy(self) -> None:
        for host in self.hosts:
            host.kill_agent(signal.SIGTERM)
            for _ in range(2):  # whatever the agents left running in their namespaces
                for pid in host.processes(""):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
            ip("netns", "del", host.name, check=False)
        for veth in self._veths:
            ip("link", "del", veth, check=False)
        ip("link", "del", self.bridge, check=False)
