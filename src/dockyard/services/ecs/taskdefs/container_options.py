"""Task definition members beyond the basics, turned into the task spec an agent runs:
volumes and mount points, ulimits, linuxParameters, DNS and hosts, namespaces, ... and the
container instance attributes a host needs to honour them.

Every member a runtime cannot honour leads to an attribute its driver does not advertise
(ECS's own names where ECS has one, `dockyard.capability.<member>` otherwise), so placement
refuses such a host instead of running the task without the member. Members no Dockyard
runtime honours are refused at RunTask/CreateService (`unsupported`).
"""

from __future__ import annotations

from typing import Any

from dockyard.core.taskspec import (
    FEATURE_PREFIX,
    ContainerSpec,
    Device,
    MountPoint,
    TaskSpec,
    Tmpfs,
    Ulimit,
    VolumeFrom,
    VolumeKind,
    VolumeSpec,
    features,
)
from dockyard.placement import Requirement
from dockyard.services.ecs.errors import InvalidParameterException


def _strings(mapping: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def task_volumes(taskdef: dict[str, Any]) -> list[VolumeSpec]:
    volumes = []
    for v in taskdef.get("volumes") or []:
        name = str(v.get("name") or "")
        docker = v.get("dockerVolumeConfiguration")
        host = v.get("host")
        if docker is not None:
            volumes.append(
                VolumeSpec(
                    name=name,
                    kind=VolumeKind.DOCKER,
                    scope=str(docker.get("scope") or "task"),
                    autoprovision=bool(docker.get("autoprovision", False)),
                    driver=str(docker.get("driver") or "local"),
                    driver_opts={
                        str(k): str(x) for k, x in (docker.get("driverOpts") or {}).items()
                    },
                    labels={str(k): str(x) for k, x in (docker.get("labels") or {}).items()},
                )
            )
        elif host is not None and host.get("sourcePath"):
            volumes.append(VolumeSpec(name, VolumeKind.HOST, source_path=str(host["sourcePath"])))
        elif v.get("efsVolumeConfiguration") or v.get("fsxWindowsFileServerVolumeConfiguration"):
            continue  # needs ecs.capability.efs / fsxWindowsFileServer: never placed here
        else:
            volumes.append(VolumeSpec(name, VolumeKind.TASK))
    return volumes


def apply_container_options(c: ContainerSpec, cdef: dict[str, Any]) -> None:
    """Fill the container's spec from the members beyond the basics."""
    c.mount_points = [
        MountPoint(str(m["sourceVolume"]), str(m["containerPath"]), bool(m.get("readOnly")))
        for m in cdef.get("mountPoints") or []
        if m.get("sourceVolume") and m.get("containerPath")
    ]
    c.volumes_from = [
        VolumeFrom(str(v["sourceContainer"]), bool(v.get("readOnly")))
        for v in cdef.get("volumesFrom") or []
        if v.get("sourceContainer")
    ]
    c.ulimits = [
        Ulimit(str(u["name"]), int(u["softLimit"]), int(u["hardLimit"]))
        for u in cdef.get("ulimits") or []
    ]
    c.hostname = cdef.get("hostname") or None
    c.extra_hosts = [
        (str(h["hostname"]), str(h["ipAddress"])) for h in cdef.get("extraHosts") or []
    ]
    c.dns_servers = [str(s) for s in cdef.get("dnsServers") or []]
    c.dns_search_domains = [str(s) for s in cdef.get("dnsSearchDomains") or []]
    c.readonly_root_filesystem = bool(cdef.get("readonlyRootFilesystem"))
    c.interactive = bool(cdef.get("interactive"))
    c.pseudo_terminal = bool(cdef.get("pseudoTerminal"))
    c.disable_networking = bool(cdef.get("disableNetworking"))
    c.system_controls = {
        str(s["namespace"]): str(s.get("value", "")) for s in cdef.get("systemControls") or []
    }
    c.security_options = [str(s) for s in cdef.get("dockerSecurityOptions") or []]
    c.links = [str(s) for s in cdef.get("links") or []]
    lp = cdef.get("linuxParameters") or {}
    caps = lp.get("capabilities") or {}
    c.cap_add = [str(x) for x in caps.get("add") or []]
    c.cap_drop = [str(x) for x in caps.get("drop") or []]
    c.devices = [
        Device(str(d["hostPath"]), d.get("containerPath"), list(d.get("permissions") or []))
        for d in lp.get("devices") or []
    ]
    c.init_process_enabled = bool(lp.get("initProcessEnabled"))
    shm = lp.get("sharedMemorySize")
    c.shared_memory_size = int(shm) if shm is not None else None
    c.tmpfs = [
        Tmpfs(str(t["containerPath"]), int(t["size"]), list(t.get("mountOptions") or []))
        for t in lp.get("tmpfs") or []
    ]
    c.max_swap = int(lp["maxSwap"]) if lp.get("maxSwap") is not None else None
    c.swappiness = int(lp["swappiness"]) if lp.get("swappiness") is not None else None


def unsupported(taskdef: dict[str, Any]) -> None:
    """Members that no Dockyard runtime honours and for which ECS has no attribute."""
    for mode_name in ("pidMode", "ipcMode"):
        if taskdef.get(mode_name) == "task":
            raise InvalidParameterException(
                f"{mode_name} 'task' is not supported by the docker or process driver of "
                f"Dockyard ({mode_name}); use 'host' or leave it out."
            )
    for c in taskdef.get("containerDefinitions") or []:
        if c.get("credentialSpecs"):
            raise InvalidParameterException(
                "credentialSpecs (gMSA) is not supported by the docker or process driver of "
                f"Dockyard (containerDefinitions[{c.get('name')}].credentialSpecs)."
            )


def requirements(taskdef: dict[str, Any], spec: TaskSpec) -> tuple[Requirement, ...]:
    """The attributes a host needs for this task: ECS's requiresAttributes (derived from the
    document now, so revisions registered before a derivation rule existed get it too) plus
    `dockyard.capability.<member>` for each member that some driver cannot honour."""
    from dockyard.services.ecs.taskdefs.domain import network_mode, required_attributes

    names = required_attributes(taskdef, network_mode(taskdef))
    for given in taskdef.get("requiresAttributes") or []:
        if given.get("name") and given["name"] not in names:
            names.append(str(given["name"]))
    names += [FEATURE_PREFIX + f for f in features(spec)]
    return tuple(Requirement(n) for n in names)
