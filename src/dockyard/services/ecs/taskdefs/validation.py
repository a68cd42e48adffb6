"""RegisterTaskDefinition rules beyond what the botocore shapes enforce.

`check` validates a parsed RegisterTaskDefinition request the way ECS does and returns what
the rules worked out on the way: the task-level cpu and memory as numbers, the effective
network mode and the launch types the definition is compatible with. Messages follow ECS's
wording where it is known; each names the field it is about.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from dockyard.services.ecs.errors import ClientException, InvalidParameterException

MAX_CONTAINERS = 10
MAX_SIZE = 32 * 1024  # bytes of the request's JSON
MIN_CONTAINER_MEMORY = 6  # MiB: what Docker 20.10+ reserves for a container
EC2_CPU_RANGE = (128, 196608)  # CPU units
HEALTH_CHECK_RANGES = {  # (minimum, maximum, default) in seconds / attempts
    "interval": (5, 300, 30),
    "timeout": (2, 120, 5),
    "retries": (1, 10, 3),
    "startPeriod": (0, 300, None),
}
CONTAINER_TIMEOUT_RANGE = (2, 120)  # startTimeout / stopTimeout, seconds
DEPENDENCY_CONDITIONS = {"START", "COMPLETE", "SUCCESS", "HEALTHY"}

_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_VCPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$", re.IGNORECASE)
_GB = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*gb\s*$", re.IGNORECASE)
_UNITS = re.compile(r"^\s*(\d+)\s*$")


def _steps(low: int, high: int, step: int) -> frozenset[int]:
    return frozenset(range(low, high + 1, step))


FARGATE_SIZES: dict[int, frozenset[int]] = {
    256: frozenset({512, 1024, 2048}),
    512: _steps(1024, 4096, 1024),
    1024: _steps(2048, 8192, 1024),
    2048: _steps(4096, 16384, 1024),
    4096: _steps(8192, 30720, 1024),
    8192: _steps(16384, 61440, 4096),
    16384: _steps(32768, 122880, 8192),
}


@dataclass(slots=True)
class Checked:
    """What validation worked out about a task definition."""

    cpu: int | None  # task-level CPU units
    memory: int | None  # task-level MiB
    network_mode: str  # effective: bridge when none was given
    compatibilities: list[str] = field(default_factory=list)


def check(request: dict[str, Any]) -> Checked:
    family_name(request.get("family", ""))
    check_size(request)
    containers = request.get("containerDefinitions") or []
    check_container_list(containers)
    network_mode = request.get("networkMode") or "bridge"
    cpu = task_cpu(request.get("cpu"))
    memory = task_memory(request.get("memory"))
    volumes = {v.get("name") for v in request.get("volumes") or []}
    names = {c["name"] for c in containers}
    for c in containers:
        check_container(c, network_mode, names, volumes)
    check_port_collisions(containers, network_mode)
    check_dependencies(containers)
    if not any(c.get("essential", True) for c in containers):
        raise ClientException("Task definition doesn't have any essential container.")

    required = list(request.get("requiresCompatibilities") or [])
    fargate_problems = fargate_issues(request, containers, network_mode, cpu, memory)
    if "FARGATE" in required and fargate_problems:
        raise fargate_problems[0]
    if "EXTERNAL" in required and network_mode == "awsvpc":
        raise ClientException(
            "Tasks using the EXTERNAL launch type do not support network mode 'awsvpc' "
            "(networkMode)."
        )
    if (
        cpu is not None
        and "FARGATE" not in required
        and not (EC2_CPU_RANGE[0] <= cpu <= EC2_CPU_RANGE[1])
    ):
        raise ClientException(
            f"Invalid 'cpu' setting for task. The value must be between {EC2_CPU_RANGE[0]} "
            f"and {EC2_CPU_RANGE[1]} CPU units (cpu: {cpu})."
        )
    check_memory(containers, cpu, memory)

    compatibilities = ["EC2"]
    if not fargate_problems:
        compatibilities.append("FARGATE")
    if network_mode != "awsvpc":
        compatibilities.insert(0, "EXTERNAL")
    if "MANAGED_INSTANCES" in required:
        compatibilities.append("MANAGED_INSTANCES")
    return Checked(cpu, memory, network_mode, compatibilities)


# -- task level -------------------------------------------------------------------------


def family_name(family: str) -> str:
    if not family:
        raise ClientException("Family can not be blank.")
    if len(family) > 255:
        raise ClientException(f"Family can have at most 255 characters (family: {family[:40]}...).")
    if not _NAME.match(family):
        raise ClientException("Family contains invalid characters.")
    return family


def check_size(request: dict[str, Any]) -> None:
    size = len(json.dumps(request, separators=(",", ":"), default=str).encode())
    if size > MAX_SIZE:
        raise ClientException(
            f"Task definition size is {size} bytes, over the limit of {MAX_SIZE // 1024} KiB."
        )


def check_container_list(containers: list[dict[str, Any]]) -> None:
    if not containers:
        raise ClientException("Container list cannot be empty.")
    if len(containers) > MAX_CONTAINERS:
        raise ClientException("Too many containers.")
    seen: set[str] = set()
    for c in containers:
        name = c.get("name")
        if not name:
            raise ClientException("Container.name should not be null or empty.")
        if len(name) > 255 or not _NAME.match(name):
            raise ClientException("Container.name contains invalid characters.")
        if name in seen:
            raise ClientException("Container names must be unique within a Task Definition.")
        seen.add(name)


def task_cpu(value: str | None) -> int | None:
    """Task-level CPU units from "1024" or "1 vCPU" (which ECS stores as "1024")."""
    if value is None:
        return None
    units = _parse_amount(value, _VCPU)
    if units is None or units <= 0:
        raise InvalidParameterException(f"Invalid 'cpu' setting for task (cpu: {value!r}).")
    return units


def task_memory(value: str | None) -> int | None:
    """Task-level MiB from "2048" or "2 GB" (which ECS stores as "2048")."""
    if value is None:
        return None
    mib = _parse_amount(value, _GB)
    if mib is None or mib <= 0:
        raise InvalidParameterException(f"Invalid 'memory' setting for task (memory: {value!r}).")
    return mib


def _parse_amount(value: str, scaled: re.Pattern[str]) -> int | None:
    plain = _UNITS.match(value)
    if plain:
        return int(plain.group(1))
    match = scaled.match(value)
    if match:
        amount = float(match.group(1)) * 1024
        return int(amount) if amount.is_integer() else None
    return None


def fargate_issues(
    request: dict[str, Any],
    containers: list[dict[str, Any]],
    network_mode: str,
    cpu: int | None,
    memory: int | None,
) -> list[ClientException]:
    """Why this definition cannot run on Fargate (empty: it can)."""
    issues: list[ClientException] = []
    if network_mode != "awsvpc":
        issues.append(ClientException("Fargate only supports network mode \u2018awsvpc\u2019."))
    if cpu is None:
        issues.append(ClientException("Fargate requires that 'cpu' be defined at the task level."))
    if memory is None:
        issues.append(
            ClientException("Fargate requires that 'memory' be defined at the task level.")
        )
    if cpu is not None and memory is not None and memory not in FARGATE_SIZES.get(cpu, ()):
        issues.append(
            ClientException(
                f"No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. "
                "See the Amazon ECS documentation for the valid values."
            )
        )
    for c in containers:
        if c.get("privileged"):
            issues.append(
                ClientException(
                    "Tasks using the Fargate launch type do not support privileged containers "
                    f"(container '{c['name']}': privileged)."
                )
            )
    if request.get("ipcMode"):
        issues.append(
            ClientException("Tasks using the Fargate launch type do not support ipcMode.")
        )
    if request.get("pidMode") == "host":
        issues.append(
            ClientException(
                "Tasks using the Fargate launch type do not support pidMode 'host' (pidMode)."
            )
        )
    return issues


def check_memory(containers: list[dict[str, Any]], cpu: int | None, memory: int | None) -> None:
    for c in containers:
        name = c["name"]
        hard, soft = c.get("memory"), c.get("memoryReservation")
        for label, value in (("memory", hard), ("memoryReservation", soft)):
            if value is not None and value < MIN_CONTAINER_MEMORY:
                raise ClientException(
                    f"Invalid '{label}' setting for container '{name}'. The minimum is "
                    f"{MIN_CONTAINER_MEMORY} MiB ({label}: {value})."
                )
        if memory is None and hard is None and soft is None:
            raise ClientException(
                f"Invalid setting for container '{name}'. "
                "At least one of 'memory' or 'memoryReservation' must be specified."
            )
        if hard is not None and soft is not None and hard < soft:
            raise ClientException(
                f"Invalid setting for container '{name}'. 'memory' ({hard}) must be greater "
                f"than or equal to 'memoryReservation' ({soft})."
            )
        if memory is not None and hard is not None and hard > memory:
            raise ClientException(
                f"The 'memory' setting for container '{name}' is greater than for the task."
            )
    if memory is not None:
        if sum(c.get("memoryReservation") or 0 for c in containers) > memory:
            raise ClientException(
                "The sum of all container 'memoryReservation' values cannot be greater than "
                "the value of the task 'memory'."
            )
        reserved = sum(c.get("memoryReservation") or c.get("memory") or 0 for c in containers)
        if reserved > memory:
            raise ClientException(
                "The sum of all container 'memory' values cannot be greater than the value "
                "of the task 'memory'."
            )
    if cpu is not None and sum(c.get("cpu") or 0 for c in containers) > cpu:
        raise ClientException(
            "The sum of all container 'cpu' values cannot be greater than the value of the "
            "task 'cpu'."
        )


# -- one container ----------------------------------------------------------------------


def check_container(
    c: dict[str, Any], network_mode: str, names: set[str], volumes: set[str | None]
) -> None:
    name = c["name"]
    if not c.get("image"):
        raise ClientException("Container.image should not be null or empty.")
    if c.get("cpu") is not None and c["cpu"] < 0:
        raise ClientException(f"Invalid 'cpu' setting for container '{name}' (cpu: {c['cpu']}).")
    check_port_mappings(c, network_mode)
    if c.get("links"):
        if network_mode != "bridge":
            raise ClientException(
                f"links are not supported on container when networkMode={network_mode} "
                f"(container '{name}': links)."
            )
        for link in c["links"]:
            target = link.split(":", 1)[0]
            if target not in names or target == name:
                raise ClientException(
                    f"Container '{name}' links to '{target}', which is not another container "
                    "of this task definition (links)."
                )
    if c.get("hostname") and network_mode == "awsvpc":
        raise ClientException("hostname is not supported on container when networkMode=awsvpc.")
    for mount in c.get("mountPoints") or []:
        source = mount.get("sourceVolume")
        if source not in volumes:
            raise ClientException(
                f"Container '{name}' mounts volume '{source}', which is not a volume of this "
                "task definition (mountPoints.sourceVolume)."
            )
    for vf in c.get("volumesFrom") or []:
        source = vf.get("sourceContainer")
        if source not in names or source == name:
            raise ClientException(
                f"Container '{name}' takes volumes from '{source}', which is not another "
                "container of this task definition (volumesFrom.sourceContainer)."
            )
    if c.get("healthCheck") is not None:
        check_health_check(name, c["healthCheck"])
    for key in ("startTimeout", "stopTimeout"):
        value = c.get(key)
        low, high = CONTAINER_TIMEOUT_RANGE
        if value is not None and not low <= value <= high:
            raise ClientException(
                f"Invalid '{key}' setting for container '{name}'. It must be between {low} "
                f"and {high} seconds ({key}: {value})."
            )


def check_health_check(container: str, hc: dict[str, Any]) -> None:
    if not hc.get("command"):
        raise ClientException(
            f"Invalid 'healthCheck' setting for container '{container}'. "
            "'command' must not be empty (healthCheck.command)."
        )
    for key, (low, high, _default) in HEALTH_CHECK_RANGES.items():
        value = hc.get(key)
        if value is not None and not low <= value <= high:
            raise ClientException(
                f"Invalid 'healthCheck' setting for container '{container}'. '{key}' must be "
                f"between {low} and {high} (healthCheck.{key}: {value})."
            )


def check_port_mappings(c: dict[str, Any], network_mode: str) -> None:
    name = c["name"]
    mappings = c.get("portMappings") or []
    if mappings and network_mode == "none":
        raise ClientException(
            f"Port mappings are not supported when networkMode=none "
            f"(container '{name}': portMappings)."
        )
    for pm in mappings:
        container_port, host_port = pm.get("containerPort"), pm.get("hostPort")
        if pm.get("containerPortRange"):
            if container_port is not None or host_port is not None:
                raise ClientException(
                    f"Invalid 'containerPortRange' setting for container '{name}': it cannot "
                    "be combined with containerPort or hostPort."
                )
            continue
        if container_port is None or not 1 <= container_port <= 65535:
            raise ClientException(f"Invalid 'containerPort' setting for container '{name}'.")
        if host_port is not None and not 0 <= host_port <= 65535:
            raise ClientException(f"Invalid 'hostPort' setting for container '{name}'.")
        if network_mode in ("awsvpc", "host") and host_port not in (None, 0, container_port):
            raise ClientException(
                f"When networkMode={network_mode}, the host ports and container ports in port "
                "mappings must match."
            )


def check_port_collisions(containers: list[dict[str, Any]], network_mode: str) -> None:
    seen: set[tuple[str, int]] = set()
    for c in containers:
        for pm in c.get("portMappings") or []:
            if pm.get("containerPortRange"):
                continue
            port = pm.get("hostPort") or (
                pm["containerPort"] if network_mode in ("awsvpc", "host") else None
            )
            if not port:
                continue  # a dynamic host port (bridge)
            key = (pm.get("protocol") or "tcp", port)
            if key in seen:
                raise ClientException(
                    f"{key[0].upper()} host port '{port}' is mapped multiple times in task."
                )
            seen.add(key)


def check_dependencies(containers: list[dict[str, Any]]) -> None:
    by_name = {c["name"]: c for c in containers}
    for c in containers:
        name = c["name"]
        for dep in c.get("dependsOn") or []:
            target, condition = dep.get("containerName"), dep.get("condition")
            if target == name:
                raise ClientException(
                    f"Container '{name}' cannot depend on itself (dependsOn.containerName)."
                )
            if target not in by_name:
                raise ClientException(
                    f"Container '{name}' depends on container '{target}', which is not in the "
                    "task definition (dependsOn.containerName)."
                )
            if condition not in DEPENDENCY_CONDITIONS:
                raise ClientException(
                    f"Invalid dependency condition {condition!r} for container '{name}'. "
                    "Valid conditions: START, COMPLETE, SUCCESS, HEALTHY (dependsOn.condition)."
                )
            dependency = by_name[target]
            if condition == "HEALTHY" and not dependency.get("healthCheck"):
                raise ClientException(
                    f"Container '{name}' depends on container '{target}' with condition "
                    f"HEALTHY, but '{target}' has no healthCheck (dependsOn.condition)."
                )
            if condition in ("SUCCESS", "COMPLETE") and dependency.get("essential", True):
                raise ClientException(
                    "A dependency container with SUCCESS or COMPLETE condition cannot be an "
                    f"essential container (dependsOn.containerName: {target})."
                )
    cycle = _find_cycle(
        {n: [d["containerName"] for d in c.get("dependsOn") or []] for n, c in by_name.items()}
    )
    if cycle:
        raise ClientException(
            f"Container dependencies form a cycle: {' -> '.join(cycle)} (dependsOn)."
        )


def _find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def positive_revision(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ClientException(f"Invalid revision number. Number: {text}")
    return int(text)


def max_results(value: int | None, field_name: str = "maxResults") -> int | None:
    if value is not None and not 1 <= value <= 100:
        raise InvalidParameterException(
            f"{field_name} must be between 1 and 100 ({field_name}: {value})."
        )
    return value
