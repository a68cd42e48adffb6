"""A host's processes: every process whose network namespace is the host's, and every
process of the host's freezer cgroup (v1, `/sys/fs/cgroup/freezer/dyhost/<id>`), which the
boot program is started in and which its descendants never leave, whatever session, cgroup
of another controller or network namespace they move to (an agent's awsvpc tasks, say).
Blocking (reads /proc): call from a worker thread.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from dockyard.hosts import naming

PROC = Path("/proc")
FREEZER = Path("/sys/fs/cgroup/freezer")
CGROUP_PARENT = "dyhost"


def cgroup_dir(instance_id: str) -> Path | None:
    """The host's cgroup directory (created), or None without a writable v1 freezer."""
    if os.geteuid() != 0 or not (FREEZER / "cgroup.procs").exists():
        return None
    path = FREEZER / CGROUP_PARENT / instance_id
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return path


def remove_cgroup(instance_id: str) -> None:
    with contextlib.suppress(OSError):
        (FREEZER / CGROUP_PARENT / instance_id).rmdir()


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (tells a reused pid apart)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _ns_key(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _cgroup_members(instance_id: str) -> set[int]:
    path = FREEZER / CGROUP_PARENT / instance_id / "cgroup.procs"
    try:
        return {int(line) for line in path.read_text().split()}
    except (OSError, ValueError):
        return set()


def members(instance_id: str, netns: str) -> set[int]:
    """Pids of the host's live processes (zombies have no namespace and do not count)."""
    found = {pid for pid in _cgroup_members(instance_id) if _alive(pid)}
    key = _ns_key(netns)
    if key is None:
        return found
    me = os.getpid()
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid != me and _ns_key(f"/proc/{pid}/ns/net") == key:
            found.add(pid)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def alive(pid: int, started: int | None) -> bool:
    """Whether this very process (pid and start time) still runs."""
    return _alive(pid) and (started is None or start_time(pid) == started)


def in_host(pid: int, instance_id: str) -> bool:
    """Whether a live process runs in the host's network namespace."""
    key = _ns_key(str(Path("/var/run/netns") / naming.netns_name(instance_id)))
    return key is not None and _ns_key(f"/proc/{pid}/ns/net") == key


def signal_all(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def rss_bytes(pids: set[int]) -> int:
    """The resident memory of these processes together (VmRSS)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in (PROC / str(pid) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
    return total


def forget_task_cgroups(agent_dir: Path) -> None:
    """The (empty, once halted) cgroups that an agent host's process runtime made for its
    tasks, `/sys/fs/cgroup/<controller>/dockyard/<task key>/...`, keyed as its `tasks/<key>.json`
    files say. Only `rmdir`: a cgroup with a process left is kept."""
    keys = {p.stem for p in agent_dir.glob("**/tasks/*.json") if _is_key(p.stem)}
    for key in keys:
        for controller in ("memory", "cpu", "cpuacct"):
            top = Path("/sys/fs/cgroup") / controller / "dockyard" / key
            if not top.is_dir() or top.is_symlink():
                continue
            for path in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
                with contextlib.suppress(OSError):
                    path.rmdir()
            with contextlib.suppress(OSError):
                top.rmdir()


def _is_key(name: str) -> bool:
    return len(name) == 12 and all(c in "0123456789abcdef" for c in name)
