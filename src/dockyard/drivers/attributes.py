"""ECS container-instance attributes a driver advertises (what requiresAttributes checks).

Only what the driver really honours is advertised: a task definition needing anything else
(an EFS volume, a FireLens router, ...) is not placed on the host.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.core.taskspec import FEATURE_PREFIX, NetworkMode

# Docker remote API versions ECS agents advertise; task definitions require some of them.
DOCKER_API_VERSIONS = [f"1.{n}" for n in range(17, 45)]

COMMON = (
    "com.amazonaws.ecs.capability.logging-driver.awslogs",
    "com.amazonaws.ecs.capability.logging-driver.json-file",
    "com.amazonaws.ecs.capability.logging-driver.none",
    "com.amazonaws.ecs.capability.privileged-container",
    # the server reads a task's secrets as its execution role (docs/task-roles.md); images
    # come from the host or a reachable registry and logs go to Dockyard itself
    "com.amazonaws.ecs.capability.ecr-auth",
    "ecs.capability.execution-role-awslogs",
    "ecs.capability.execution-role-ecr-pull",
    "ecs.capability.container-health-check",
    "ecs.capability.container-ordering",
    "ecs.capability.env-files.s3",
    "ecs.capability.secrets.ssm.environment-variables",
    "ecs.capability.secrets.asm.environment-variables",
    # The agent serves a task role's credentials to the task's containers (docs/task-roles.md).
    "com.amazonaws.ecs.capability.task-iam-role",
)


def ecs_attributes(
    driver: str,
    modes: list[NetworkMode],
    cgroups: bool,
    features: Iterable[str] = (),
    extra: Iterable[str] = (),
) -> dict[str, str | None]:
    """`features`: the task definition members (core.taskspec.FEATURES) the driver honours;
    `extra`: further ECS attributes it honours."""
    attrs: dict[str, str | None] = {
        f"com.amazonaws.ecs.capability.docker-remote-api.{v}": None for v in DOCKER_API_VERSIONS
    }
    for name in (*COMMON, *extra):
        attrs[name] = None
    if NetworkMode.AWSVPC in modes:
        attrs["ecs.capability.task-eni"] = None
    if cgroups:
        attrs["ecs.capability.task-cpu-mem-limit"] = None
    for feature in features:
        attrs[FEATURE_PREFIX + feature] = None
    attrs["dockyard.driver"] = driver
    for mode in modes:
        attrs[f"dockyard.network-mode.{mode}"] = None
    attrs["dockyard.cgroups"] = "true" if cgroups else "false"
    return attrs
