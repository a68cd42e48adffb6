"""RunTask and StartTask inputs, checked and turned into what to launch: the task spec built
from the task definition and the overrides, the launch type, the task's network."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from dockyard.core.scope import Scope
from dockyard.core.taskpolicy import PolicyRefusal, TaskPolicy
from dockyard.core.taskspec import (
    ContainerSpec,
    Dependency,
    DependencyCondition,
    HealthCheckSpec,
    LogSpec,
    NetworkMode,
    PortMapping,
    TaskSpec,
)
from dockyard.placement import (
    Constraint,
    PlacementError,
    Strategy,
    TaskNeeds,
    combined,
    parse_constraints,
    parse_strategies,
    task_needs,
)
from dockyard.services.ecs.clusters.domain import Cluster
from dockyard.services.ecs.errors import ClientException, InvalidParameterException
from dockyard.services.ecs.tags import validate_tags
from dockyard.services.ecs.taskdefs import container_options

LAUNCH_TYPES = ("EC2", "FARGATE", "EXTERNAL")
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
MAX_STARTED_BY = 128


@dataclass(slots=True)
class AwsvpcConfig:
    subnets: list[str]
    security_groups: list[str] = field(default_factory=list)
    assign_public_ip: str = "DISABLED"


@dataclass(slots=True)
class Launch:
    """One RunTask/StartTask request, validated: everything needed to create its tasks."""

    scope: Scope
    cluster_arn: str
    task_definition_arn: str
    spec: TaskSpec  # task_arn is filled in per task
    needs: TaskNeeds
    launch_type: str
    group: str
    started_by: str | None
    tags: dict[str, str]
    overrides: dict[str, Any]
    network: AwsvpcConfig | None
    capacity_provider_name: str | None = None
    enable_ecs_managed_tags: bool = False
    # placementStrategy, in order; empty: the least loaded instance (services pass their own)
    strategies: tuple[Strategy, ...] = ()


def parse_cpu(value: Any, name: str) -> int:
    """CPU units from `"256"`, `256` or `"1 vCPU"`."""
    text = str(value).strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*vcpu", text, re.IGNORECASE)
    if m:
        return int(float(m.group(1)) * 1024)
    if text.isdigit():
        return int(text)
    raise InvalidParameterException(f"Invalid CPU value {text!r} ({name}).")


def parse_memory(value: Any, name: str) -> int:
    """MiB from `"512"`, `512` or `"2 GB"`."""
    text = str(value).strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*gb", text, re.IGNORECASE)
    if m:
        return int(float(m.group(1)) * 1024)
    if text.isdigit():
        return int(text)
    raise InvalidParameterException(f"Invalid memory value {text!r} ({name}).")


def launch_type_of(cluster: Cluster, p: dict[str, Any]) -> tuple[str, str | None]:
    """The launch type and capacity provider of a RunTask request."""
    strategy = p.get("capacityProviderStrategy") or []
    if p.get("launchType") and strategy:
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported."
        )
    if p.get("launchType"):
        launch_type = str(p["launchType"])
        if launch_type not in LAUNCH_TYPES:
            raise InvalidParameterException(
                f"launchType must be one of EC2, FARGATE, EXTERNAL (launchType: {launch_type})."
            )
        return launch_type, None
    strategy = strategy or cluster.default_capacity_provider_strategy
    if not strategy:
        return "EC2", None
    chosen = max(strategy, key=lambda s: (int(s.get("base", 0)), int(s.get("weight", 0))))
    provider = str(chosen.get("capacityProvider", ""))
    if provider in FARGATE_PROVIDERS:
        return "FARGATE", provider
    return "EC2", provider  # a group of container instances (dockyard agent --capacity-provider)


def check_compatibility(taskdef: dict[str, Any], launch_type: str) -> None:
    compatible = taskdef.get("compatibilities")
    if compatible is None:
        compatible = ["EC2", *taskdef.get("requiresCompatibilities", [])]
    if launch_type not in compatible:
        raise InvalidParameterException(
            f"Task definition does not support launch_type {launch_type}."
        )


def network_config(
    network_mode: NetworkMode, launch_type: str, p: dict[str, Any]
) -> AwsvpcConfig | None:
    given = p.get("networkConfiguration")
    if network_mode != NetworkMode.AWSVPC:
        if given:
            raise InvalidParameterException(
                "Network Configuration is not valid for the given networkMode of this task "
                "definition."
            )
        return None
    awsvpc = (given or {}).get("awsvpcConfiguration")
    if not awsvpc:
        raise InvalidParameterException(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified."
        )
    subnets = list(awsvpc.get("subnets") or [])
    if not subnets:
        raise InvalidParameterException("subnets can not be empty.")
    if len(subnets) > 16:
        raise InvalidParameterException("At most 16 subnets can be given (subnets).")
    groups = list(awsvpc.get("securityGroups") or [])
    if len(groups) > 5:
        raise InvalidParameterException("At most 5 security groups can be given (securityGroups).")
    public = str(awsvpc.get("assignPublicIp") or "DISABLED")
    if public == "ENABLED" and launch_type != "FARGATE":
        raise InvalidParameterException("Assign public IP is not supported for this launch type.")
    return AwsvpcConfig(subnets, groups, public)


def container_spec(cdef: dict[str, Any], network_mode: NetworkMode) -> ContainerSpec:
    mappings = []
    for pm in cdef.get("portMappings") or []:
        container_port = pm.get("containerPort")
        if container_port is None:
            continue  # a port range mapping: nothing to bind statically
        host_port = pm.get("hostPort") or None
        if network_mode in (NetworkMode.AWSVPC, NetworkMode.HOST):
            host_port = host_port or container_port
        mappings.append(PortMapping(int(container_port), host_port, pm.get("protocol", "tcp")))
    hc = cdef.get("healthCheck")
    health = None
    if hc:
        health = HealthCheckSpec(
            command=list(hc["command"]),
            interval=int(hc.get("interval", 30)),
            timeout=int(hc.get("timeout", 5)),
            retries=int(hc.get("retries", 3)),
            start_period=int(hc.get("startPeriod", 0)),
        )
    lc = cdef.get("logConfiguration")
    spec = ContainerSpec(
        name=cdef["name"],
        image=cdef.get("image", ""),
        essential=bool(cdef.get("essential", True)),
        entry_point=cdef.get("entryPoint") or None,
        command=cdef.get("command") or None,
        environment={e["name"]: e.get("value", "") for e in cdef.get("environment") or []},
        # S3 ARNs included: a task that needs one stops as its agent is handed it
        environment_files=[f["value"] for f in cdef.get("environmentFiles") or []],
        secrets={s["name"]: s["valueFrom"] for s in cdef.get("secrets") or []},
        repository_credentials=(cdef.get("repositoryCredentials") or {}).get(
            "credentialsParameter"
        ),
        working_directory=cdef.get("workingDirectory"),
        user=cdef.get("user"),
        cpu=int(cdef.get("cpu") or 0),
        memory=cdef.get("memory"),
        memory_reservation=cdef.get("memoryReservation"),
        port_mappings=mappings,
        health_check=health,
        depends_on=[
            Dependency(d["containerName"], DependencyCondition(d["condition"]))
            for d in cdef.get("dependsOn") or []
        ],
        stop_timeout=int(cdef.get("stopTimeout") or 30),
        start_timeout=int(cdef["startTimeout"]) if cdef.get("startTimeout") else None,
        log=LogSpec(lc["logDriver"], dict(lc.get("options") or {})) if lc else None,
        privileged=bool(cdef.get("privileged", False)),
        labels=dict(cdef.get("dockerLabels") or {}),
    )
    container_options.apply_container_options(spec, cdef)
    return spec


def apply_overrides(spec: TaskSpec, overrides: dict[str, Any]) -> None:
    by_name = {c.name: c for c in spec.containers}
    for co in overrides.get("containerOverrides") or []:
        name = co.get("name")
        container = by_name.get(name or "")
        if container is None:
            raise InvalidParameterException(
                f"Override for container named {name} is not a container in the TaskDefinition."
            )
        if co.get("resourceRequirements"):
            raise InvalidParameterException(
                "GPU and other resource requirements are not supported by Dockyard "
                "(containerOverrides.resourceRequirements)."
            )
        if "command" in co:
            container.command = list(co["command"])
        for env in co.get("environment") or []:
            container.environment[env["name"]] = env.get("value", "")
        if "cpu" in co:
            container.cpu = int(co["cpu"])
        if "memory" in co:
            container.memory = int(co["memory"])
        if "memoryReservation" in co:
            container.memory_reservation = int(co["memoryReservation"])
    if overrides.get("taskRoleArn"):
        spec.task_role_arn = str(overrides["taskRoleArn"])
    if overrides.get("executionRoleArn"):
        spec.execution_role_arn = str(overrides["executionRoleArn"])
    if overrides.get("cpu"):
        spec.cpu = parse_cpu(overrides["cpu"], "overrides.cpu")
    if overrides.get("memory"):
        spec.memory = parse_memory(overrides["memory"], "overrides.memory")


def build_spec(
    scope: Scope, cluster_arn: str, taskdef: dict[str, Any], launch_type: str
) -> TaskSpec:
    network_mode = NetworkMode(taskdef.get("networkMode") or "bridge")
    return TaskSpec(
        task_arn="",
        cluster_arn=cluster_arn,
        family=taskdef["family"],
        revision=int(taskdef["revision"]),
        network_mode=network_mode,
        containers=[container_spec(c, network_mode) for c in taskdef["containerDefinitions"]],
        launch_type=launch_type,
        cpu=parse_cpu(taskdef["cpu"], "cpu") if taskdef.get("cpu") else None,
        memory=parse_memory(taskdef["memory"], "memory") if taskdef.get("memory") else None,
        account_id=scope.account_id,
        region=scope.region,
        volumes=container_options.task_volumes(taskdef),
        pid_mode=taskdef.get("pidMode") or None,
        ipc_mode=taskdef.get("ipcMode") or None,
        task_role_arn=taskdef.get("taskRoleArn") or None,
        execution_role_arn=taskdef.get("executionRoleArn") or None,
    )


def placement_rules(
    taskdef: dict[str, Any], p: dict[str, Any], launch_type: str
) -> tuple[tuple[Strategy, ...], tuple[Constraint, ...]]:
    """placementStrategy and placementConstraints (the task definition's too), checked."""
    if launch_type == "FARGATE":
        if p.get("placementConstraints") or p.get("placementStrategy"):
            raise InvalidParameterException(
                "Task placement constraints and strategies are not supported with Fargate."
            )
        return (), ()
    try:
        strategies = parse_strategies(p.get("placementStrategy"))
        own = parse_constraints(
            taskdef.get("placementConstraints"),
            name="taskDefinition.placementConstraints",
            task_definition=True,
        )
        return strategies, combined(own, parse_constraints(p.get("placementConstraints")))
    except PlacementError as exc:
        raise InvalidParameterException(str(exc)) from exc


def check_policy(spec: TaskSpec, policy: TaskPolicy) -> None:
    """The operator's task policy: root, other host accounts, privileged containers, host
    paths, ... only where it allows them (docs/task-policy.md)."""
    try:
        policy.check(spec)
    except PolicyRefusal as exc:
        raise ClientException(str(exc)) from None


def reject_unsupported(p: dict[str, Any], launch_type: str) -> None:
    if p.get("enableExecuteCommand"):
        raise InvalidParameterException(
            "Dockyard does not support ECS Exec (enableExecuteCommand)."
        )
    if p.get("volumeConfigurations"):
        raise InvalidParameterException(
            "Dockyard does not support EBS volume configurations (volumeConfigurations)."
        )


def prepare(
    scope: Scope,
    cluster: Cluster,
    taskdef: dict[str, Any],
    p: dict[str, Any],
    *,
    launch_type: str,
    capacity_provider: str | None = None,
    taskdef_tags: dict[str, str] | None = None,
    policy: TaskPolicy | None = None,
) -> Launch:
    """Everything RunTask/StartTask checks before placing: compatibility, network, overrides,
    and (given the caller's `policy`) the host powers the task asks for."""
    reject_unsupported(p, launch_type)
    container_options.unsupported(taskdef)
    strategies, constraints = placement_rules(taskdef, p, launch_type)
    check_compatibility(taskdef, launch_type)
    spec = build_spec(scope, cluster.arn, taskdef, launch_type)
    if launch_type == "EXTERNAL" and spec.network_mode == NetworkMode.AWSVPC:
        raise InvalidParameterException(
            "Task definitions with the awsvpc network mode cannot run on the EXTERNAL launch type."
        )
    network = network_config(spec.network_mode, launch_type, p)
    overrides = dict(p.get("overrides") or {})
    apply_overrides(spec, overrides)
    if policy is not None:
        check_policy(spec, policy)
    if launch_type == "FARGATE" and (spec.cpu is None or spec.memory is None):
        raise InvalidParameterException(
            "Fargate tasks need task-level cpu and memory (taskDefinition cpu/memory)."
        )
    started_by = p.get("startedBy")
    if started_by is not None and len(started_by) > MAX_STARTED_BY:
        raise InvalidParameterException(
            f"startedBy can be at most {MAX_STARTED_BY} characters (startedBy)."
        )
    group = p.get("group") or f"family:{spec.family}"
    if len(group) > 255:
        raise InvalidParameterException("group can be at most 255 characters (group).")
    tags = dict(taskdef_tags or {}) if p.get("propagateTags") == "TASK_DEFINITION" else {}
    tags.update(validate_tags(p.get("tags") or []))
    managed = bool(p.get("enableECSManagedTags"))
    if managed:
        tags["aws:ecs:clusterName"] = cluster.name
    return Launch(
        scope=scope,
        cluster_arn=cluster.arn,
        task_definition_arn=taskdef["taskDefinitionArn"],
        spec=spec,
        needs=replace(
            task_needs(spec, container_options.requirements(taskdef, spec)),
            group=group,
            constraints=constraints,
        ),
        launch_type=launch_type,
        group=group,
        started_by=started_by,
        tags=tags,
        overrides=overrides,
        network=network,
        capacity_provider_name=capacity_provider,
        enable_ecs_managed_tags=managed,
        strategies=strategies,
    )
