"""CreateService/UpdateService input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

import re
from typing import Any

from dockyard.core.discovery import ServiceRegistries
from dockyard.core.loadbalancing import TargetGroups
from dockyard.core.scope import Scope
from dockyard.placement import PlacementError, parse_constraints, parse_strategies
from dockyard.services.ecs.errors import InvalidParameterException

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
CONTROLLERS = ("ECS", "CODE_DEPLOY", "EXTERNAL")
STRATEGIES = ("REPLICA", "DAEMON")
PROPAGATE = ("TASK_DEFINITION", "SERVICE", "NONE")
MAX_GRACE = 2_147_483_647


def service_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InvalidParameterException(
            "Service name can have up to 255 characters: letters (upper and lower case), "
            f"numbers, underscores and hyphens (serviceName: {name!r})."
        )
    return name


def strategy(value: str | None) -> str:
    value = value or "REPLICA"
    if value not in STRATEGIES:
        raise InvalidParameterException(
            f"schedulingStrategy must be REPLICA or DAEMON (schedulingStrategy: {value})."
        )
    return value


def controller(p: dict[str, Any]) -> str:
    value = str((p.get("deploymentController") or {}).get("type") or "ECS")
    if value not in CONTROLLERS:
        raise InvalidParameterException(
            f"deploymentController.type must be ECS, CODE_DEPLOY or EXTERNAL ({value})."
        )
    return value


def placement(
    p: dict[str, Any], launch_type: str, current: tuple[list[Any], list[Any]] = ([], [])
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The service's placementStrategy and placementConstraints (given, else `current`),
    checked and in their canonical form."""
    strategy = p["placementStrategy"] if "placementStrategy" in p else current[0]
    constraints = p["placementConstraints"] if "placementConstraints" in p else current[1]
    strategy, constraints = list(strategy or []), list(constraints or [])
    if launch_type == "FARGATE" and (strategy or constraints):
        raise InvalidParameterException(
            "Task placement constraints and strategies are not supported with Fargate."
        )
    try:
        return (
            [s.to_wire() for s in parse_strategies(strategy)],
            [c.to_wire() for c in parse_constraints(constraints)],
        )
    except PlacementError as exc:
        raise InvalidParameterException(str(exc)) from exc


def unsupported(p: dict[str, Any], *, registries: bool = False) -> None:
    """Refuse what Dockyard does not run yet, naming the field, rather than ignore it.
    `registries`: service discovery registries are taken (services, not task sets)."""
    if p.get("serviceRegistries") and not registries:
        raise InvalidParameterException(
            "Dockyard does not support service discovery registries for task sets yet "
            "(serviceRegistries)."
        )
    for name, what in (
        ("serviceConnectConfiguration", "Service Connect"),
        ("volumeConfigurations", "EBS volume configurations"),
        ("vpcLatticeConfigurations", "VPC Lattice"),
    ):
        value = p.get(name)
        if value and not (name == "serviceConnectConfiguration" and not value.get("enabled")):
            raise InvalidParameterException(f"Dockyard does not support {what} yet ({name}).")
    if p.get("enableExecuteCommand"):
        raise InvalidParameterException(
            "Dockyard does not support ECS Exec (enableExecuteCommand)."
        )
    if p.get("availabilityZoneRebalancing") == "ENABLED":
        raise InvalidParameterException(
            "Dockyard does not support availability zone rebalancing (availabilityZoneRebalancing)."
        )
    if p.get("loadBalancers"):
        for lb in p["loadBalancers"]:
            if lb.get("loadBalancerName"):
                raise InvalidParameterException(
                    "Classic Load Balancers are not supported; give a targetGroupArn "
                    "(loadBalancers.loadBalancerName)."
                )


def deployment_configuration(
    given: dict[str, Any] | None,
    current: dict[str, Any] | None,
    *,
    scheduling: str,
    controller_type: str,
) -> dict[str, Any]:
    """The merged deployment configuration with AWS's defaults: REPLICA 100/200, DAEMON 0/100."""
    daemon = scheduling == "DAEMON"
    config: dict[str, Any] = dict(current or {})
    config.setdefault("minimumHealthyPercent", 0 if daemon else 100)
    config.setdefault("maximumPercent", 100 if daemon else 200)
    if controller_type == "ECS":
        config.setdefault("deploymentCircuitBreaker", {"enable": False, "rollback": False})
    given = dict(given or {})
    for key in ("strategy", "bakeTimeInMinutes", "lifecycleHooks", "linearConfiguration",
                "canaryConfiguration"):  # fmt: skip
        if given.get(key) not in (None, "ROLLING", [], {}):
            raise InvalidParameterException(
                f"Dockyard runs rolling deployments; {key} is not supported yet "
                f"(deploymentConfiguration.{key})."
            )
        given.pop(key, None)
    config.update({k: v for k, v in given.items() if v is not None})
    low, high = int(config["minimumHealthyPercent"]), int(config["maximumPercent"])
    if not 0 <= low <= 100:
        raise InvalidParameterException(
            "minimumHealthyPercent must be between 0 and 100 "
            f"(deploymentConfiguration.minimumHealthyPercent: {low})."
        )
    if high < 100 and not daemon:
        raise InvalidParameterException(
            f"maximumPercent must be at least 100 (deploymentConfiguration.maximumPercent: {high})."
        )
    if daemon and high != 100:
        raise InvalidParameterException(
            "The DAEMON scheduling strategy runs one task per instance: maximumPercent must be "
            f"100 (deploymentConfiguration.maximumPercent: {high})."
        )
    breaker = config.get("deploymentCircuitBreaker")
    if breaker and breaker.get("enable") and controller_type != "ECS":
        raise InvalidParameterException(
            "The deployment circuit breaker can only be used with the ECS deployment controller "
            "(deploymentConfiguration.deploymentCircuitBreaker)."
        )
    alarms = config.get("alarms")
    if alarms is not None:
        names = list(alarms.get("alarmNames") or [])
        if alarms.get("enable") and not names:
            raise InvalidParameterException(
                "alarmNames must name at least one alarm when alarms are enabled "
                "(deploymentConfiguration.alarms.alarmNames)."
            )
        if any(not n or len(n) > 255 for n in names):
            raise InvalidParameterException(
                "Alarm names must have 1 to 255 characters "
                "(deploymentConfiguration.alarms.alarmNames)."
            )
        config["alarms"] = {
            "alarmNames": names, "enable": bool(alarms.get("enable")),
            "rollback": bool(alarms.get("rollback")),
        }  # fmt: skip
    return config


def desired_count(value: Any, scheduling: str) -> int:
    if scheduling == "DAEMON":
        if value:
            raise InvalidParameterException(
                "The DAEMON scheduling strategy does not take a desiredCount (desiredCount)."
            )
        return 0
    count = int(value or 0)
    if count < 0:
        raise InvalidParameterException(
            f"desiredCount must not be negative (desiredCount: {count})."
        )
    return count


def grace_period(value: Any) -> int | None:
    if value is None:
        return None
    if not 0 <= int(value) <= MAX_GRACE:
        raise InvalidParameterException(
            f"healthCheckGracePeriodSeconds must be between 0 and {MAX_GRACE} "
            "(healthCheckGracePeriodSeconds)."
        )
    return int(value)


def propagate_tags(value: str | None) -> str:
    value = value or "NONE"
    if value not in PROPAGATE:
        raise InvalidParameterException(
            f"propagateTags must be TASK_DEFINITION, SERVICE or NONE (propagateTags: {value})."
        )
    return value


def load_balancers(
    lbs: list[dict[str, Any]],
    taskdef: dict[str, Any] | None,
    groups: TargetGroups | None,
    scope: Scope,
) -> list[dict[str, Any]]:
    """Each entry names a target group and a container port of the task definition."""
    out = []
    for lb in lbs:
        tg, name, port = lb.get("targetGroupArn"), lb.get("containerName"), lb.get("containerPort")
        if not tg:
            raise InvalidParameterException("targetGroupArn is required (loadBalancers).")
        if not name or port is None:
            raise InvalidParameterException(
                "containerName and containerPort are required (loadBalancers)."
            )
        if groups is None:
            raise InvalidParameterException(
                "Load balancers are not available on this Dockyard server (loadBalancers)."
            )
        target_type = groups.target_type(scope.account_id, scope.region, tg)
        if target_type is None:
            raise InvalidParameterException(f"The target group {tg} does not exist.")
        if taskdef is not None:
            mode = taskdef.get("networkMode") or "bridge"
            containers = {c["name"]: c for c in taskdef["containerDefinitions"]}
            container = containers.get(name)
            if container is None:
                raise InvalidParameterException(
                    f"The container {name} does not exist in the task definition."
                )
            ports = {m.get("containerPort") for m in container.get("portMappings") or []}
            if port not in ports:
                raise InvalidParameterException(
                    f"The container {name} did not have a container port {port} defined."
                )
            if mode == "awsvpc" and target_type != "ip":
                raise InvalidParameterException(
                    f"The provided target group {tg} has target type {target_type}, which is "
                    "incompatible with the awsvpc network mode specified in the task definition."
                )
            if mode != "awsvpc" and target_type != "instance":
                raise InvalidParameterException(
                    f"The provided target group {tg} has target type {target_type}, which is "
                    f"incompatible with the {mode} network mode specified in the task definition."
                )
        out.append({"targetGroupArn": tg, "containerName": name, "containerPort": int(port)})
    return out


def service_registries(
    entries: list[dict[str, Any]],
    taskdef: dict[str, Any] | None,
    registries: ServiceRegistries | None,
    scope: Scope,
) -> list[dict[str, Any]]:
    """At most one Cloud Map service, with the container port its records carry."""
    if len(entries) > 1:
        raise InvalidParameterException(
            "A service can be associated with one service registry only (serviceRegistries)."
        )
    out = []
    for entry in entries:
        arn = entry.get("registryArn")
        name, container_port, port = (
            entry.get("containerName"), entry.get("containerPort"), entry.get("port")
        )  # fmt: skip
        if not arn:
            raise InvalidParameterException(
                "registryArn is required (serviceRegistries.registryArn)."
            )
        if registries is None:
            raise InvalidParameterException(
                "Service discovery is not available on this Dockyard server (serviceRegistries)."
            )
        registry = registries.registry(scope.account_id, scope.region, arn)
        if registry is None:
            raise InvalidParameterException(
                f"The service registry {arn} does not exist (serviceRegistries.registryArn)."
            )
        if (name is None) != (container_port is None):
            raise InvalidParameterException(
                "containerName and containerPort must be given together (serviceRegistries)."
            )
        srv = "SRV" in registry.record_types
        if taskdef is not None:
            mode = taskdef.get("networkMode") or "bridge"
            if mode == "awsvpc":
                if port is not None and name is not None:
                    raise InvalidParameterException(
                        "Give either containerName and containerPort or port, not both "
                        "(serviceRegistries)."
                    )
                if srv and port is None and name is None:
                    raise InvalidParameterException(
                        "The service registry has an SRV record: give containerName and "
                        "containerPort, or port (serviceRegistries)."
                    )
            else:
                if port is not None:
                    raise InvalidParameterException(
                        f"port is only for the awsvpc network mode; the task definition uses "
                        f"{mode}: give containerName and containerPort (serviceRegistries.port)."
                    )
                if name is None:
                    raise InvalidParameterException(
                        f"The task definition uses the {mode} network mode: containerName and "
                        "containerPort are required (serviceRegistries)."
                    )
                if registry.record_types and not srv:
                    raise InvalidParameterException(
                        f"The task definition uses the {mode} network mode, which supports "
                        f"SRV records only; the service registry {arn} has none "
                        "(serviceRegistries)."
                    )
            if name is not None:
                containers = {c["name"]: c for c in taskdef["containerDefinitions"]}
                container = containers.get(name)
                if container is None:
                    raise InvalidParameterException(
                        f"The container {name} does not exist in the task definition "
                        "(serviceRegistries.containerName)."
                    )
                ports = {m.get("containerPort") for m in container.get("portMappings") or []}
                if container_port not in ports:
                    raise InvalidParameterException(
                        f"The container {name} did not have a container port {container_port} "
                        "defined (serviceRegistries.containerPort)."
                    )
        item: dict[str, Any] = {"registryArn": arn}
        if name is not None:
            item["containerName"] = name
            item["containerPort"] = int(str(container_port))
        if port is not None:
            item["port"] = int(port)
        out.append(item)
    return out
