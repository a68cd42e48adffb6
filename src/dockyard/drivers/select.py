"""`--runtime auto|process|docker`: which driver runs this host's containers."""

from __future__ import annotations

import logging
from pathlib import Path

from dockyard.drivers.base import Driver

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "process", "docker")


def select_driver(
    runtime: str,
    data_dir: Path,
    *,
    task_subnet: str | None = None,
    bridge: str | None = None,
    task_user: str | None = None,
) -> Driver:
    """`auto` uses Docker when an engine answers a ping, with `process:` tasks still run by
    the process driver (`routed.RoutedDriver`); else the process driver alone.

    `task_subnet` and `bridge` set where the process driver puts bridge/awsvpc tasks (default
    10.213.0.0/16 on `dockyard0`): agents sharing one kernel in different network namespaces
    may each take their own. `task_user`: who the process driver runs containers without
    `user` as, when it runs as root (default nobody)."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    if runtime in ("auto", "docker"):
        from dockyard.drivers.docker import DockerDriver

        if DockerDriver.available():
            if runtime == "docker":
                return DockerDriver(data_dir)
            from dockyard.drivers.process import ProcessDriver
            from dockyard.drivers.routed import RoutedDriver

            process = ProcessDriver(
                data_dir, subnet=task_subnet, bridge=bridge, task_user_name=task_user
            )
            return RoutedDriver(DockerDriver(data_dir), process)
        if runtime == "docker":
            raise RuntimeError("no Docker engine answers (is dockerd running? DOCKER_HOST?)")
        log.info("no Docker engine answers; running tasks with the process driver")
    from dockyard.drivers.process import ProcessDriver

    return ProcessDriver(data_dir, subnet=task_subnet, bridge=bridge, task_user_name=task_user)
