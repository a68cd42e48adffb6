"""The process driver's container isolation on the host's own filesystem: which task
definition members it can honour, the task's scratch volumes, and the shim's mount plan.

The shim runs each command in a mount namespace of its own (and a UTS namespace when the
container has a hostname), so bind mounts, tmpfs, /etc/hosts and /etc/resolv.conf and a
read-only root are seen by the container only. That needs root on Linux; without it the
driver honours ulimits alone and advertises no more.

Mount points: the source is the volume's `host.sourcePath` (created when missing, as Docker
does) or, for a volume without `host`, `<data>/process/volumes/<task>/<volume>`, an empty
directory made when the task is prepared and removed with the task. The container path is
a path of the host (a process container has no root of its own): it must exist. Dockyard
never creates directories in the host's tree for a container path; a missing one stops the
task with CannotStartContainerError naming it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from dockyard.core.taskspec import ContainerSpec, TaskSpec, VolumeKind
from dockyard.drivers import hostnet
from dockyard.drivers.base import DriverError

# Members the process driver honours (core.taskspec.FEATURES), with and without namespaces.
ALWAYS = ("ulimits",)
WITH_NAMESPACES = (
    "mountPoints",
    "volumesFrom",
    "readonlyRootFilesystem",
    "linuxParameters.tmpfs",
    "linuxParameters.sharedMemorySize",
    "extraHosts",
    "dnsServers",
    "dnsSearchDomains",
    "hostname",
)


def available() -> bool:
    return os.name == "posix" and os.geteuid() == 0 and os.path.exists("/proc/self/ns/mnt")


def features(mount_ns: bool) -> tuple[str, ...]:
    return ALWAYS + WITH_NAMESPACES if mount_ns else ALWAYS


def _readable(path: Path, text: str) -> None:
    """/etc/hosts and /etc/resolv.conf of a container: no secret in them, and a container that
    runs as another user reads them (bind-mounted; the 0700 dirs above need no traversal)."""
    path.write_text(text)
    os.chmod(path, 0o644)


def task_dir(root: Path, task_arn: str) -> Path:
    return root / hostnet.key_of(task_arn)


def create_volumes(root: Path, spec: TaskSpec, mount_ns: bool) -> None:
    """The task's scratch volumes (idempotent). The dirs above them stay 0700 (the agent's);
    a volume itself is 0755 as Docker makes one, for containers that run as another user."""
    for volume in spec.volumes:
        if volume.kind == VolumeKind.TASK:
            path = task_dir(root, spec.task_arn) / volume.name
            if not path.is_dir():
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(path, 0o755)


def remove_volumes(root: Path, task_arn: str) -> None:
    shutil.rmtree(task_dir(root, task_arn), ignore_errors=True)


def _source(root: Path, spec: TaskSpec, name: str) -> str:
    volume = spec.volume(name)
    if volume is None:
        raise DriverError(
            f"CannotStartContainerError: volume {name} is not a volume of this task "
            "(mountPoints.sourceVolume)"
        )
    if volume.kind == VolumeKind.DOCKER:
        raise DriverError(
            f"CannotStartContainerError: volume {name} is a Docker volume "
            "(dockerVolumeConfiguration); the process runtime cannot mount it"
        )
    if volume.kind == VolumeKind.HOST:
        path = str(volume.source_path)
        if not os.path.isdir(path):  # as Docker creates a missing host path: 0755
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o755)
        return path
    path = str(task_dir(root, spec.task_arn) / volume.name)
    os.makedirs(path, exist_ok=True)
    return path


def _hosts(container: ContainerSpec) -> str:
    try:
        base = Path("/etc/hosts").read_text()
    except OSError:
        base = "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
    lines = [base.rstrip("\n")]
    if container.hostname:
        lines.append(f"127.0.1.1\t{container.hostname}")
    lines += [f"{ip}\t{host}" for host, ip in container.extra_hosts]
    return "\n".join(lines) + "\n"


def _resolv(container: ContainerSpec) -> str:
    try:
        base = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        base = []
    servers = container.dns_servers or [
        line.split()[1] for line in base if line.startswith("nameserver") and len(line.split()) > 1
    ]
    search = container.dns_search_domains or [
        d for line in base if line.startswith("search") for d in line.split()[1:]
    ]
    options = [line for line in base if line.startswith("options")]
    text = [f"nameserver {s}" for s in servers]
    if search:
        text.append("search " + " ".join(search))
    return "\n".join(text + options) + "\n"


def needs_namespace(container: ContainerSpec, spec: TaskSpec) -> bool:
    return bool(
        spec.mounts_of(container)
        or container.tmpfs
        or container.shared_memory_size is not None
        or container.readonly_root_filesystem
        or container.extra_hosts
        or container.dns_servers
        or container.dns_search_domains
        or container.hostname
    )


def config(
    root: Path, spec: TaskSpec, container: ContainerSpec, cdir: Path, mount_ns: bool
) -> dict[str, Any]:
    """The shim config keys for the container's isolation (written files go to `cdir`)."""
    cfg: dict[str, Any] = {
        "ulimits": [{"name": u.name, "soft": u.soft, "hard": u.hard} for u in container.ulimits]
    }
    if not needs_namespace(container, spec):
        return cfg
    if not mount_ns:
        raise DriverError(
            "CannotStartContainerError: mount points, tmpfs, hostname, extraHosts and DNS "
            "settings need mount namespaces (run the process runtime as root on Linux)"
        )
    cfg["mount_ns"] = True
    cfg["hostname"] = container.hostname
    cfg["mounts"] = [
        {
            "source": _source(root, spec, m.source_volume),
            "target": m.container_path,
            "read_only": m.read_only,
        }
        for m in spec.mounts_of(container)
    ]
    tmpfs = [
        {"target": t.container_path, "size": t.size, "options": t.mount_options}
        for t in container.tmpfs
    ]
    if container.shared_memory_size is not None:
        tmpfs.append({"target": "/dev/shm", "size": container.shared_memory_size, "options": []})
    cfg["tmpfs"] = tmpfs
    if container.extra_hosts or container.hostname:
        _readable(cdir / "hosts", _hosts(container))
        cfg["hosts_file"] = str(cdir / "hosts")
    if container.dns_servers or container.dns_search_domains:
        _readable(cdir / "resolv.conf", _resolv(container))
        cfg["resolv_file"] = str(cdir / "resolv.conf")
    cfg["readonly_root"] = container.readonly_root_filesystem
    return cfg
