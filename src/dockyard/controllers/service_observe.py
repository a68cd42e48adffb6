"""What the service controller sees: a service's wishes and its world, as plan inputs."""

from __future__ import annotations

from dockyard.controllers.service_plan import (
    FAILURE_PREFIX,
    DeploymentView,
    Desired,
    HostView,
    Observed,
    TaskView,
)
from dockyard.core.loadbalancing import Target, TargetGroups
from dockyard.core.taskspec import DesiredStatus, NetworkMode
from dockyard.placement import PlacementError, parse_constraints
from dockyard.services.ecs.deployments.model import DeploymentStatus, EcsService, ServiceStatus
from dockyard.services.ecs.instances.domain import REGISTERED_STATUSES, ContainerInstance
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.domain import TaskFilter
from dockyard.services.ecs.tasks.model import StopCode, Task

FAILURE_CODES = (StopCode.TASK_FAILED_TO_START, StopCode.ESSENTIAL_CONTAINER_EXITED)


def is_failure(task: Task) -> bool:
    if task.desired_status != DesiredStatus.STOPPED:
        return False
    if task.stop_code in FAILURE_CODES:
        return True
    return task.stop_code == StopCode.SERVICE_SCHEDULER_INITIATED and (
        task.stopped_reason or ""
    ).startswith(FAILURE_PREFIX)


def has_health_check(task: Task) -> bool:
    return any(c.essential and c.health_check is not None for c in task.spec.containers)


def service_tasks(ecs: Ecs, service: EcsService) -> list[Task]:
    return ecs.tasks.list(
        TaskFilter(cluster_arn=service.cluster_arn, group=service.group, desired_status=None)
    )


def hosts_of(ecs: Ecs, service: EcsService) -> list[ContainerInstance]:
    if service.launch_type == "FARGATE":
        return ecs.instances.managed_capacity()
    return ecs.instances.in_cluster(service.cluster_arn, REGISTERED_STATUSES)


def daemon_fits(ecs: Ecs, service: EcsService, host: ContainerInstance) -> bool:
    """Whether a DAEMON service's memberOf constraints admit the host (REPLICA: always)."""
    if service.scheduling_strategy != "DAEMON" or not service.placement_constraints:
        return True
    try:
        constraints = parse_constraints(service.placement_constraints)
    except PlacementError:
        return False
    facts = ecs.tasks.candidate(host).facts()
    return all(c.query(facts) for c in constraints if c.query is not None)


def target_of(ecs: Ecs, task: Task, lb: dict[str, object]) -> Target | None:
    """Where the load balancer reaches `task` for one `loadBalancers` entry, once known."""
    name, port = lb.get("containerName"), lb.get("containerPort")
    if task.spec.network_mode == NetworkMode.AWSVPC:
        ip = task.attachment.private_ip if task.attachment else None
        return Target(ip, int(str(port)), ip) if ip and port else None
    instance = ecs.instances.by_arn.get(task.host_arn)
    if instance is None:
        return None
    for tc in task.containers:
        if tc.name != name:
            continue
        for b in tc.network_bindings:
            if b.container_port == port:
                return Target(instance.ec2_instance_id, b.host_port, instance.host_ip)
    if task.spec.network_mode == NetworkMode.HOST and port:
        return Target(instance.ec2_instance_id, int(str(port)), instance.host_ip)
    return None


def target_health(
    ecs: Ecs, service: EcsService, task: Task, groups: TargetGroups, draining: bool
) -> str:
    scope = service.scope
    states = []
    for lb in service.load_balancers:
        tg = lb.get("targetGroupArn")
        target = target_of(ecs, task, lb)
        if not tg or target is None:
            states.append("unused")
            continue
        states.append(groups.health(scope.account_id, scope.region, str(tg), target))
    if not states:
        return "unused"
    if draining:
        return "unused" if all(s in ("unused", "unavailable") for s in states) else "draining"
    if "unused" in states:
        return "unused"
    if "unhealthy" in states:
        return "unhealthy"
    return "healthy" if all(s == "healthy" for s in states) else "initial"


def task_view(ecs: Ecs, service: EcsService, task: Task, groups: TargetGroups | None) -> TaskView:
    draining = task.arn in service.draining_tasks
    health = None
    if groups is not None and service.load_balancers and not task.is_stopped:
        health = target_health(ecs, service, task, groups, draining)
    return TaskView(
        arn=task.arn,
        deployment_id=task.started_by,
        host_arn=task.host_arn,
        last_status=task.last_status,
        desired_status=task.desired_status,
        health=task.health_status,
        has_health_check=has_health_check(task),
        started_at=task.started_at,
        created_at=task.created_at,
        protected_until=task.protected_until,
        target_health=health,
        draining_lb=draining,
        lb_registered=task.arn in service.registered_tasks,
        failed=is_failure(task),
        stopped_at=task.stopped_at,
    )


def observe(
    ecs: Ecs, service: EcsService, groups: TargetGroups | None, now: float
) -> tuple[Desired, Observed]:
    config = service.deployment_configuration
    breaker = config.get("deploymentCircuitBreaker") or {}
    live = service.live_deployments()
    live.sort(key=lambda d: d.status != DeploymentStatus.PRIMARY)
    primary = live[0] if live and live[0].status == DeploymentStatus.PRIMARY else None
    can_roll_back = primary is not None and (
        ecs.services.last_completed(service, exclude=primary.id) is not None
    )
    known = {d.id for d in service.deployments}
    tasks = [t for t in service_tasks(ecs, service) if t.started_by in known]
    # Stopped tasks of retired deployments no longer matter.
    live_ids = {d.id for d in live}
    tasks = [t for t in tasks if t.started_by in live_ids or not t.is_stopped]
    hosts = hosts_of(ecs, service)
    desired = Desired(
        name=service.name,
        desired_count=service.desired_count,
        deployments=tuple(
            DeploymentView(d.id, d.status == DeploymentStatus.PRIMARY, d.rollout_state)
            for d in live
        ),
        min_percent=int(config.get("minimumHealthyPercent", 100)),
        max_percent=int(config.get("maximumPercent", 200)),
        daemon=service.scheduling_strategy == "DAEMON",
        circuit_breaker=bool(breaker.get("enable")),
        rollback=bool(breaker.get("rollback")),
        can_roll_back=can_roll_back,
        grace_period=float(service.health_check_grace_period or 0),
        load_balanced=groups is not None and bool(service.load_balancers),
        active=service.status == ServiceStatus.ACTIVE,
        was_steady=service.steady,
    )
    observed = Observed(
        tasks=tuple(task_view(ecs, service, t, groups) for t in tasks),
        hosts=tuple(
            HostView(h.arn, h.status, h.agent_connected, daemon_fits(ecs, service, h))
            for h in hosts
        ),
    )
    return desired, observed
