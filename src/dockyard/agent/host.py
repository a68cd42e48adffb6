"""This host's resources and identity, as registered with the server."""

from __future__ import annotations

import os
import platform
import socket

from dockyard.core.agentlink import Registration

ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


def memory_mib() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def registration(
    cluster: str,
    driver_attributes: dict[str, str | None],
    extra: dict[str, str | None],
    agent_version: str,
    host_ip: str,
) -> Registration:
    machine = platform.machine().lower()
    attributes: dict[str, str | None] = {
        "ecs.os-type": "linux",
        "ecs.os-family": "LINUX",
        "ecs.cpu-architecture": ARCHITECTURES.get(machine, machine),
        **driver_attributes,
        **extra,
    }
    return Registration(
        cluster=cluster,
        cpu=(os.cpu_count() or 1) * 1024,
        memory=memory_mib(),
        attributes=attributes,
        hostname=socket.gethostname(),
        agent_version=agent_version,
        host_ip=host_ip,
    )
