"""What the Docker driver gives a container beyond image, command and resources: the task's
volumes (bind mounts, task-scoped and shared Docker volumes) and the container definition
members Docker maps directly (ulimits, linuxParameters, DNS, hosts, namespaces, ...)."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Any

from dockyard.core.taskspec import ContainerSpec, TaskSpec, VolumeKind, VolumeSpec
from dockyard.drivers.base import DriverError

log = logging.getLogger(__name__)

LABEL_TASK = "com.amazonaws.ecs.task-arn"
LABEL_MANAGED = "dockyard.managed"
LABEL_VOLUME_SCOPE = "dockyard.volume-scope"
LINK_WAIT = 60.0  # seconds a container waits for the container it links to


def container_name(spec: TaskSpec, name: str) -> str:
    return f"ecs-{spec.family}-{spec.revision}-{name}-{spec.task_id[:12]}"


def volume_name(spec: TaskSpec, volume: VolumeSpec) -> str:
    """The Docker volume behind a task volume: shared ones by their own name, the others
    per task (as ECS names them: family, revision, volume, task)."""
    if volume.kind == VolumeKind.DOCKER and volume.scope == "shared":
        return volume.name
    raw = f"ecs-{spec.family}-{spec.revision}-{volume.name}-{spec.task_id[:12]}"
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", raw)


def ensure_volumes(client: Any, spec: TaskSpec) -> None:
    """Create the task's Docker volumes: task-scoped ones (also for volumes without `host`),
    and shared ones with autoprovision that do not exist yet."""
    import docker.errors

    for volume in spec.volumes:
        if volume.kind == VolumeKind.HOST:
            continue
        name = volume_name(spec, volume)
        shared = volume.kind == VolumeKind.DOCKER and volume.scope == "shared"
        try:
            client.volumes.get(name)
            continue
        except docker.errors.NotFound:
            pass
        if shared and not volume.autoprovision:
            raise DriverError(
                f"ResourceInitializationError: shared Docker volume {name} does not exist and "
                "autoprovision is false (dockerVolumeConfiguration)"
            )
        labels = dict(volume.labels)
        labels[LABEL_MANAGED] = "true"
        labels[LABEL_VOLUME_SCOPE] = "shared" if shared else "task"
        if not shared:
            labels[LABEL_TASK] = spec.task_arn
        try:
            client.volumes.create(
                name=name, driver=volume.driver, driver_opts=volume.driver_opts, labels=labels
            )
        except docker.errors.APIError as exc:
            raise DriverError(
                f"ResourceInitializationError: cannot create volume {name}: "
                f"{exc.explanation or exc}"
            ) from exc


def remove_task_volumes(client: Any, task_arn: str) -> None:
    """The task's containers, then its task-scoped volumes (shared ones stay)."""
    import docker.errors

    for container in client.containers.list(
        all=True, filters={"label": f"{LABEL_TASK}={task_arn}"}
    ):
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)
    found = client.volumes.list(
        filters={"label": [f"{LABEL_TASK}={task_arn}", f"{LABEL_VOLUME_SCOPE}=task"]}
    )
    for volume in found:
        try:
            volume.remove(force=True)
        except docker.errors.APIError as exc:
            log.warning("cannot remove volume %s of %s: %s", volume.name, task_arn, exc)


def binds(spec: TaskSpec, container: ContainerSpec) -> list[str]:
    """`source:target[:ro]` for each mount point, volumesFrom included."""
    result = []
    for mount in spec.mounts_of(container):
        volume = spec.volume(mount.source_volume)
        if volume is None:
            raise DriverError(
                f"CannotCreateContainerError: volume {mount.source_volume} is not a volume of "
                "this task (mountPoints.sourceVolume)"
            )
        if volume.kind == VolumeKind.HOST:
            source = str(volume.source_path)
        else:
            source = volume_name(spec, volume)
        result.append(f"{source}:{mount.container_path}" + (":ro" if mount.read_only else ""))
    return result


def options(client: Any, spec: TaskSpec, c: ContainerSpec, memory: int | None) -> dict[str, Any]:
    """create() keyword arguments for the members beyond the basics (only those set)."""
    from docker.types import Ulimit

    kw: dict[str, Any] = {}
    mounts = binds(spec, c)
    if mounts:
        kw["volumes"] = mounts
    if c.ulimits:
        kw["ulimits"] = [Ulimit(name=u.name, soft=u.soft, hard=u.hard) for u in c.ulimits]
    if c.hostname:
        kw["hostname"] = c.hostname
    if c.extra_hosts:
        kw["extra_hosts"] = [f"{host}:{ip}" for host, ip in c.extra_hosts]
    if c.dns_servers:
        kw["dns"] = c.dns_servers
    if c.dns_search_domains:
        kw["dns_search"] = c.dns_search_domains
    if c.readonly_root_filesystem:
        kw["read_only"] = True
    if c.interactive:
        kw["stdin_open"] = True
    if c.pseudo_terminal:
        kw["tty"] = True
    if c.disable_networking:
        kw["network_disabled"] = True
    if c.system_controls:
        kw["sysctls"] = dict(c.system_controls)
    if c.security_options:
        kw["security_opt"] = list(c.security_options)
    if c.cap_add:
        kw["cap_add"] = c.cap_add
    if c.cap_drop:
        kw["cap_drop"] = c.cap_drop
    if c.devices:
        kw["devices"] = [
            f"{d.host_path}:{d.container_path or d.host_path}:"
            + ("".join(p[0] for p in d.permissions) or "rwm")
            for d in c.devices
        ]
    if c.init_process_enabled:
        kw["init"] = True
    if c.shared_memory_size is not None:
        kw["shm_size"] = f"{c.shared_memory_size}m"
    if c.tmpfs:
        kw["tmpfs"] = {
            t.container_path: ",".join([f"size={t.size}m", *t.mount_options]) for t in c.tmpfs
        }
    if c.max_swap is not None:
        if not memory:
            raise DriverError(
                "CannotCreateContainerError: linuxParameters.maxSwap needs a memory limit (memory)"
            )
        kw["memswap_limit"] = f"{memory + c.max_swap}m"
    if c.swappiness is not None:
        kw["mem_swappiness"] = c.swappiness
    if spec.pid_mode == "host":
        kw["pid_mode"] = "host"
    if spec.ipc_mode in ("host", "none"):
        kw["ipc_mode"] = spec.ipc_mode
    if c.links:
        kw["links"] = _links(client, spec, c)
    return kw


def _links(client: Any, spec: TaskSpec, c: ContainerSpec) -> dict[str, str]:
    """links `name[:alias]` to containers of the same task, once they exist (ECS starts a
    linked container first)."""
    import docker.errors

    result = {}
    for link in c.links:
        name, _, alias = link.partition(":")
        target = container_name(spec, name)
        deadline = time.monotonic() + LINK_WAIT
        while True:
            try:
                client.containers.get(target)
                break
            except docker.errors.NotFound:
                if time.monotonic() > deadline:
                    raise DriverError(
                        f"CannotCreateContainerError: linked container {name} was not "
                        "created (links)"
                    ) from None
                time.sleep(0.2)
        result[target] = alias or name
    return result
