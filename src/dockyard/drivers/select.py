"""`--runtime auto|process|docker`: which driver runs this host's containers."""

from __future__ import annotations

import logging
from pathlib import Path

from dockyard.drivers.base import Driver

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "process", "docker")


def select_driver(runtime: str, data_dir: Path) -> Driver:
    """`auto` uses Docker when an engine answers a ping, else the process driver."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    if runtime in ("auto", "docker"):
        from dockyard.drivers.docker import DockerDriver

        if DockerDriver.available():
            return DockerDriver(data_dir)
        if runtime == "docker":
            raise RuntimeError("no Docker engine answers (is dockerd running? DOCKER_HOST?)")
        log.info("no Docker engine answers; running tasks with the process driver")
    from dockyard.drivers.process import ProcessDriver

    return ProcessDriver(data_dir)
