"""cgroup v1 limits for process-driver containers: /sys/fs/cgroup/<controller>/dockyard/..."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")
PARENT = "dockyard"


def available() -> bool:
    """True when the v1 memory and cpu controllers are mounted and writable."""
    return (
        os.geteuid() == 0
        and (ROOT / "memory" / "memory.limit_in_bytes").exists()
        and (ROOT / "cpu" / "cpu.shares").exists()
        and os.access(ROOT / "memory", os.W_OK)
    )


def _accounting() -> bool:
    """cpuacct mounted on its own hierarchy (when co-mounted with cpu, `cpu` holds it)."""
    acct = ROOT / "cpuacct"
    return (acct / "cpuacct.usage").exists() and acct.resolve() != (ROOT / "cpu").resolve()


CONTROLLERS = ("memory", "cpu", "cpuacct") if _accounting() else ("memory", "cpu")


def container_dirs(task_id: str, container_id: str) -> dict[str, Path]:
    return {c: ROOT / c / PARENT / task_id / container_id for c in CONTROLLERS}


def usage(task_id: str, container_id: str) -> tuple[int, int] | None:
    """(CPU time used in nanoseconds, memory in use in bytes without the inactive page cache)
    of a container's cgroups; None when its CPU accounting cannot be read."""
    dirs = container_dirs(task_id, container_id)
    acct = dirs.get("cpuacct", dirs["cpu"])
    try:
        cpu_ns = int((acct / "cpuacct.usage").read_text())
    except (OSError, ValueError):
        return None
    memory = 0
    with contextlib.suppress(OSError, ValueError):
        memory = int((dirs["memory"] / "memory.usage_in_bytes").read_text())
        for line in (dirs["memory"] / "memory.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "total_inactive_file":
                memory = max(0, memory - int(value))
                break
    return cpu_ns, memory


def create(
    task_id: str,
    container_id: str,
    memory_mib: int | None,
    task_memory_mib: int | None,
    cpu_shares: int,
) -> dict[str, Path]:
    """Create the container's cgroups under the task's; returns controller -> directory."""
    dirs = container_dirs(task_id, container_id)
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    if task_memory_mib:
        _limit_memory(dirs["memory"].parent, task_memory_mib)
    if memory_mib:
        _limit_memory(dirs["memory"], memory_mib)
    if cpu_shares > 0:
        (dirs["cpu"] / "cpu.shares").write_text(str(max(2, cpu_shares)))
    return dirs


def _limit_memory(path: Path, mib: int) -> None:
    limit = str(mib * 1024 * 1024)
    (path / "memory.limit_in_bytes").write_text(limit)
    memsw = path / "memory.memsw.limit_in_bytes"
    if memsw.exists():  # no swapping past the limit: a hard limit, as Docker sets it
        with contextlib.suppress(OSError):
            memsw.write_text(limit)
    with contextlib.suppress(OSError):
        (path / "memory.swappiness").write_text("0")


def kill_all(task_id: str, container_id: str) -> None:
    for path in container_dirs(task_id, container_id).values():
        try:
            pids = (path / "cgroup.procs").read_text().split()
        except OSError:
            continue
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)


def remove(task_id: str, container_id: str | None = None) -> None:
    """Remove a container's cgroups, or (container_id None) the task's whole subtree."""
    for controller in CONTROLLERS:
        base = ROOT / controller / PARENT / task_id
        targets = [base / container_id] if container_id else [*_children(base), base]
        for path in targets:
            try:
                path.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.debug("cannot remove cgroup %s: %s", path, exc)


def _children(base: Path) -> list[Path]:
    try:
        return [p for p in base.iterdir() if p.is_dir()]
    except OSError:
        return []
