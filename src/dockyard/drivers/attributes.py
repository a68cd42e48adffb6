"""ECS container-instance attributes a driver advertises (what requiresAttributes checks)."""

from __future__ import annotations

from dockyard.core.taskspec import NetworkMode

# Docker remote API versions ECS agents advertise; task definitions require some of them.
DOCKER_API_VERSIONS = [f"1.{n}" for n in range(17, 45)]


def ecs_attributes(driver: str, modes: list[NetworkMode], cgroups: bool) -> dict[str, str | None]:
    attrs: dict[str, str | None] = {
        f"com.amazonaws.ecs.capability.docker-remote-api.{v}": None for v in DOCKER_API_VERSIONS
    }
    for name in (
        "com.amazonaws.ecs.capability.logging-driver.awslogs",
        "com.amazonaws.ecs.capability.logging-driver.json-file",
        "com.amazonaws.ecs.capability.logging-driver.none",
        "ecs.capability.container-health-check",
        "ecs.capability.container-ordering",
        "ecs.capability.env-files.s3",
    ):
        attrs[name] = None
    if NetworkMode.AWSVPC in modes:
        attrs["ecs.capability.task-eni"] = None
    if cgroups:
        attrs["ecs.capability.task-cpu-mem-limit"] = None
    attrs["dockyard.driver"] = driver
    for mode in modes:
        attrs[f"dockyard.network-mode.{mode}"] = None
    attrs["dockyard.cgroups"] = "true" if cgroups else "false"
    return attrs
