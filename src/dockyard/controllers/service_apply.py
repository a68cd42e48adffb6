"""Carrying out a service plan: tasks started and stopped, targets registered and drained,
deployments moved along, service events recorded."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from dockyard.controllers.service_observe import hosts_of, service_tasks, target_of
from dockyard.controllers.service_plan import IMPAIRED, Plan, failure_threshold
from dockyard.core.loadbalancing import TargetGroups
from dockyard.core.taskspec import DesiredStatus
from dockyard.placement import SERVICE_DEFAULT
from dockyard.services.ecs.capacity.domain import parse_strategy, split
from dockyard.services.ecs.deployments import rollout
from dockyard.services.ecs.deployments.events import ServiceAction, emit_action
from dockyard.services.ecs.deployments.model import (
    Deployment,
    DeploymentStatus,
    EcsService,
    ServiceStatus,
    TaskSet,
    TaskSetStatus,
    computed_count,
)
from dockyard.services.ecs.errors import ClientException, InvalidParameterException
from dockyard.services.ecs.instances.domain import InstanceStatus
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks import launch as task_launch
from dockyard.services.ecs.tasks.model import LastStatus, StopCode, Task

log = logging.getLogger(__name__)

PLACEMENT_WORDS = {
    "RESOURCE:MEMORY": "has insufficient memory available",
    "RESOURCE:CPU": "has insufficient CPU units available",
    "RESOURCE:PORTS": "is already using a port required by your task",
    "ATTRIBUTE": "is missing an attribute required by your task",
    "AGENT": "has an agent that is not connected",
    "INACTIVE": "is not ACTIVE",
}


def _ids(tasks: list[str]) -> str:
    return " ".join(f"(task {arn.rsplit('/', 1)[-1]})" for arn in tasks)


def launch_for(ecs: Ecs, service: EcsService, started_by: str, taskdef_arn: str,
               network: dict[str, Any] | None,
               policy_key: str | None = None) -> task_launch.Launch:  # fmt: skip
    """The launch of a service's tasks, checked against the task policy of the access key
    that set this task definition (`policy_key`; the service's by default)."""
    scope = service.scope
    cluster = ecs.clusters.get(scope, service.cluster_arn)
    taskdef = ecs.taskdefs.resolve(scope, taskdef_arn)
    params: dict[str, Any] = {
        "group": service.group,
        "startedBy": started_by,
        "enableECSManagedTags": service.enable_ecs_managed_tags,
    }
    if network:
        params["networkConfiguration"] = network
    if service.launch_type != "FARGATE":
        params["placementConstraints"] = service.placement_constraints
        params["placementStrategy"] = service.placement_strategy
    taskdef_tags: dict[str, str] = {}
    if service.propagate_tags == "TASK_DEFINITION":
        params["propagateTags"] = "TASK_DEFINITION"
        taskdef_tags = dict(ecs.taskdefs.get(scope, taskdef_arn).tags)
    launch = task_launch.prepare(
        scope, cluster, taskdef, params, launch_type=service.launch_type,
        taskdef_tags=taskdef_tags,
        policy=ecs.task_policies.for_key(policy_key or service.policy_key),
    )  # fmt: skip
    if service.launch_type != "FARGATE" and not launch.strategies:
        launch.strategies = SERVICE_DEFAULT
    if service.propagate_tags == "SERVICE":
        launch.tags.update(service.tags)
    if service.enable_ecs_managed_tags:
        launch.tags["aws:ecs:serviceName"] = service.name
    return launch


def placement_message(
    service: EcsService, failures: list[dict[str, Any]], error: str | None
) -> str:
    head = (
        f"(service {service.name}) was unable to place a task because no container instance "
        "met all of its requirements."
    )
    if error:
        return f"{head} Reason: {error}"
    if failures:
        closest = failures[-1]
        words = PLACEMENT_WORDS.get(str(closest.get("reason")), "cannot run the task")
        instance_id = str(closest["arn"]).rsplit("/", 1)[-1]
        return f"{head} The closest matching (container-instance {instance_id}) {words}."
    return head


def placement_failed(ecs: Ecs, service: EcsService, failures: list[dict[str, Any]],
                     error: str | None, now: float) -> None:  # fmt: skip
    """Record that tasks could not be placed: a service event and, when it is news, an
    `ECS Service Action` SERVICE_TASK_PLACEMENT_FAILURE naming the reasons."""
    if service.add_event(placement_message(service, failures, error), now):
        reasons = sorted({str(f["reason"]) for f in failures if f.get("reason")})
        extra: dict[str, Any] = {"reasons": reasons} if reasons else {}
        emit_action(ecs.events, service, ServiceAction.SERVICE_TASK_PLACEMENT_FAILURE, now, **extra)


def _run_by_provider(
    ecs: Ecs, service: EcsService, launch: task_launch.Launch, count: int
) -> tuple[list[Task], list[dict[str, Any]]]:
    """Start `count` tasks over the service's capacity providers: bases first, then weights,
    counting the tasks each provider already runs for the service."""
    items = parse_strategy(service.capacity_provider_strategy, "capacityProviderStrategy")
    running = Counter(
        t.capacity_provider_name for t in service_tasks(ecs, service) if not t.is_stopped
    )
    counts = {name: n for name, n in running.items() if name}
    started: list[Task] = []
    failures: list[dict[str, Any]] = []
    for name, n in Counter(split(items, count, counts)).items():
        launch.capacity_provider_name = name
        # With managed scaling, tasks that fit nowhere wait in PROVISIONING for capacity.
        wait = ecs.capacity_providers.waits_for_capacity(service.scope, name)
        ok, failed = ecs.tasks.run(launch, n, wait=wait)
        started += ok
        failures += failed
    return started, failures


def start_tasks(ecs: Ecs, service: EcsService, deployment: Deployment, count: int,
                host_arn: str | None, now: float) -> list[Task]:  # fmt: skip
    try:
        launch = launch_for(
            ecs, service, deployment.id, deployment.task_definition_arn,
            deployment.network_configuration,
        )  # fmt: skip
        if host_arn is None and service.capacity_provider_strategy:
            started, failures = _run_by_provider(ecs, service, launch, count)
        elif host_arn is None:
            started, failures = ecs.tasks.run(launch, count)
        else:
            instance = ecs.instances.by_arn[host_arn]
            started, failures = ecs.tasks.start(launch, [instance])
        error = None
    except (InvalidParameterException, ClientException) as exc:
        started, failures, error = [], [], exc.message
    if started:
        service.add_event(
            f"(service {service.name}) has started {len(started)} tasks: "
            f"{_ids([t.arn for t in started])}.",
            now,
        )
    if len(started) < count:
        placement_failed(ecs, service, failures, error, now)
    return started


def register_targets(ecs: Ecs, service: EcsService, tasks: list[Task],
                     groups: TargetGroups, now: float) -> None:  # fmt: skip
    scope = service.scope
    for lb in service.load_balancers:
        tg = str(lb.get("targetGroupArn") or "")
        done = 0
        for task in tasks:
            target = target_of(ecs, task, lb)
            if not tg or target is None or task.is_stopped or task.desired_status != "RUNNING":
                continue  # a task stopped in this very pass is not registered
            if task.arn in service.registered_tasks:
                continue
            if groups.health(scope.account_id, scope.region, tg, target) == "unused":
                groups.register(scope.account_id, scope.region, tg, target)
                done += 1
        if done:
            service.add_event(
                f"(service {service.name}) registered {done} targets in (target-group {tg})", now
            )
    for task in tasks:
        if task.arn not in service.registered_tasks and task.desired_status == "RUNNING":
            service.registered_tasks.append(task.arn)


def note_registered(ecs: Ecs, service: EcsService, tasks: list[Task],
                    groups: TargetGroups) -> None:  # fmt: skip
    """Remember the RUNNING tasks whose targets are in their target groups, whoever put them
    there (an Auto Scaling group may have registered the instance first): ECS registers a
    task once, and one that something else then deregisters stays out."""
    scope = service.scope
    for task in tasks:
        if task.arn in service.registered_tasks or task.is_stopped:
            continue
        if task.last_status != "RUNNING" or task.desired_status != "RUNNING":
            continue
        for lb in service.load_balancers:
            tg = str(lb.get("targetGroupArn") or "")
            target = target_of(ecs, task, lb)
            if not tg or target is None:
                continue
            if groups.health(scope.account_id, scope.region, tg, target) != "unused":
                service.registered_tasks.append(task.arn)
                break


def deregister_targets(ecs: Ecs, service: EcsService, tasks: list[Task],
                       groups: TargetGroups, now: float) -> None:  # fmt: skip
    scope = service.scope
    for lb in service.load_balancers:
        tg = str(lb.get("targetGroupArn") or "")
        for task in tasks:
            target = target_of(ecs, task, lb)
            if tg and target is not None:
                groups.deregister(scope.account_id, scope.region, tg, target)
        if tasks and tg:
            service.add_event(
                f"(service {service.name}) deregistered {len(tasks)} targets in "
                f"(target-group {tg})",
                now,
            )
    for task in tasks:
        if task.arn not in service.draining_tasks:
            service.draining_tasks.append(task.arn)
    if tasks:
        service.add_event(
            f"(service {service.name}) has begun draining connections on {len(tasks)} tasks.",
            now,
        )


def trip(ecs: Ecs, service: EcsService, deployment: Deployment, rollback: bool,
         now: float) -> bool:  # fmt: skip
    """The circuit breaker tripped; True when a rollback deployment was started."""
    return rollout.end(ecs, service, deployment, rollout.circuit_breaker(rollback), now) is not None


def apply(ecs: Ecs, service: EcsService, plan: Plan, groups: TargetGroups | None,
          now: float) -> float | None:  # fmt: skip
    """Carry out `plan`; returns seconds until the next look when it must come soon."""
    before = service.to_dict()
    primary = service.primary
    config = service.deployment_configuration
    breaker = config.get("deploymentCircuitBreaker") or {}
    tripped = plan.tripped is not None and primary is not None and primary.id == plan.tripped
    if (
        tripped
        and primary is not None
        and trip(ecs, service, primary, bool(breaker.get("rollback")), now)
    ):
        ecs.services.save(service, notify=False)
        return 0.0
    by_arn = ecs.tasks.by_arn

    # Counts.
    service.running_count, service.pending_count = plan.running, plan.pending
    for d in service.deployments:
        counts = plan.counts.get(d.id)
        if counts is not None:
            d.running_count, d.pending_count, d.failed_tasks = (
                counts.running, counts.pending, counts.failed,
            )  # fmt: skip
    if primary is not None:
        if service.scheduling_strategy == "DAEMON":
            eligible = [h for h in hosts_of(ecs, service) if h.status == InstanceStatus.ACTIVE]
            if service.desired_count != len(eligible):
                service.desired_count = len(eligible)
                emit_action(ecs.events, service, ServiceAction.SERVICE_DESIRED_COUNT_UPDATED, now)
        primary.desired_count = service.desired_count
        primary.circuit_breaker_threshold = failure_threshold(service.desired_count)

    # Unhealthy tasks.
    for task_arn, reason in plan.unhealthy:
        what = "container health checks" if "container" in reason else "ELB health checks"
        service.add_event(
            f"(service {service.name}) (task {task_arn.rsplit('/', 1)[-1]}) failed {what}.", now
        )

    # Stops and draining.
    stopped = []
    for order in plan.stop:
        task = by_arn.get(order.task_arn)
        if task is None or task.is_stopped:
            continue
        ecs.tasks.stop(task, StopCode.SERVICE_SCHEDULER_INITIATED, order.reason)
        stopped.append(task.arn)
        if task.arn in service.draining_tasks:
            service.draining_tasks.remove(task.arn)
    if stopped:
        service.add_event(
            f"(service {service.name}) has stopped {len(stopped)} running tasks: {_ids(stopped)}.",
            now,
        )
    # A task drained because it failed its health checks stops for that reason (shown while
    # it drains, as ECS does, and counted as a failure by the circuit breaker).
    unhealthy = dict(plan.unhealthy)
    for arn in plan.deregister:
        task = by_arn.get(arn)
        if task is not None and arn in unhealthy and task.stopped_reason is None:
            task.stopped_reason = unhealthy[arn]
            ecs.tasks.save(task)
    if groups is not None and plan.deregister:
        deregister_targets(
            ecs, service, [by_arn[a] for a in plan.deregister if a in by_arn], groups, now
        )
    if groups is not None and plan.register:
        register_targets(
            ecs, service, [by_arn[a] for a in plan.register if a in by_arn], groups, now
        )
    current = service_tasks(ecs, service)
    if groups is not None and service.load_balancers:
        note_registered(ecs, service, current, groups)
    still = {t.arn for t in current if not t.is_stopped}
    service.draining_tasks = [a for a in service.draining_tasks if a in still]
    service.registered_tasks = [a for a in service.registered_tasks if a in still]

    # Starts.
    for start in plan.start:
        target = service.deployment(start.deployment_id)
        if target is not None:
            start_tasks(ecs, service, target, start.count, start.host_arn, now)

    # Deployments.
    if plan.completed is not None and primary is not None and primary.id == plan.completed:
        rollout.finish(ecs, service, primary, now)
    for deployment_id in plan.retire:
        retired = service.deployment(deployment_id)
        if retired is not None and retired.status != DeploymentStatus.PRIMARY:
            retired.status = DeploymentStatus.INACTIVE
            retired.updated_at = now
    impaired = IMPAIRED.format(name=service.name) if plan.impaired else None
    for message in plan.events:
        if service.add_event(message, now) and message == impaired:
            emit_action(ecs.events, service, ServiceAction.SERVICE_TASK_START_IMPAIRED, now)
    if plan.steady and not service.steady:
        emit_action(ecs.events, service, ServiceAction.SERVICE_STEADY_STATE, now)
    service.steady = plan.steady
    if service.status == ServiceStatus.DRAINING and not still and not plan.start:
        service.status = ServiceStatus.INACTIVE
        for d in service.deployments:
            d.status = DeploymentStatus.INACTIVE
    if service.to_dict() != before:
        ecs.services.save(service, notify=False)
    return None


def reconcile_task_sets(ecs: Ecs, service: EcsService, now: float) -> float | None:
    """EXTERNAL services: each task set keeps `scale` percent of the desired count running;
    a DRAINING task set (deleted) goes once its tasks have stopped."""
    before = service.to_dict()
    tasks = service_tasks(ecs, service)
    active = service.status == ServiceStatus.ACTIVE
    wanted = {
        ts.id: ts for ts in service.task_sets if active and ts.status != TaskSetStatus.DRAINING
    }
    known = {ts.id for ts in service.task_sets}
    busy = False
    running = pending = 0
    for task in tasks:
        if task.is_stopped or task.desired_status == DesiredStatus.STOPPED:
            continue
        if task.started_by not in known:
            ecs.tasks.stop(task, StopCode.SERVICE_SCHEDULER_INITIATED, "Task set deleted")
            busy = True
    for ts in list(service.task_sets):
        mine = [t for t in tasks if t.started_by == ts.id and not t.is_stopped]
        wanted_running = [t for t in mine if t.desired_status == DesiredStatus.RUNNING]
        count = computed_count(service, ts) if ts.id in wanted else 0
        ts.running_count = len([t for t in mine if t.last_status == LastStatus.RUNNING])
        ts.pending_count = len([t for t in mine if t.last_status != LastStatus.RUNNING])
        running += ts.running_count
        pending += ts.pending_count
        if ts.status == TaskSetStatus.DRAINING and not mine:
            service.task_sets.remove(ts)
            continue
        if len(wanted_running) > count:
            newest = sorted(wanted_running, key=lambda t: t.created_at, reverse=True)
            for task in newest[: len(wanted_running) - count]:
                ecs.tasks.stop(task, StopCode.SERVICE_SCHEDULER_INITIATED, "Task set scaled in")
            busy = True
        elif len(wanted_running) < count:
            start_task_set(ecs, service, ts, count - len(wanted_running), now)
            busy = True
        stable = not busy and ts.running_count == count and len(mine) == count
        status = "STEADY_STATE" if stable else "STABILIZING"
        if ts.stability_status != status:
            ts.stability_status, ts.stability_status_at = status, now
    service.running_count, service.pending_count = running, pending
    if service.status == ServiceStatus.DRAINING and not [t for t in tasks if not t.is_stopped]:
        service.status = ServiceStatus.INACTIVE
    if service.to_dict() != before:
        ecs.services.save(service, notify=False)
    unsettled = (
        busy or pending or any(ts.stability_status != "STEADY_STATE" for ts in service.task_sets)
    )
    return 1.0 if unsettled else None


def start_task_set(ecs: Ecs, service: EcsService, ts: TaskSet, count: int, now: float) -> None:
    try:
        launch = launch_for(ecs, service, ts.id, ts.task_definition_arn,
                            ts.network_configuration, ts.policy_key)  # fmt: skip
        launch.tags.update(ts.tags)
        started, failures = ecs.tasks.run(launch, count)
        error = None
    except (InvalidParameterException, ClientException) as exc:
        started, failures, error = [], [], exc.message
    if started:
        service.add_event(
            f"(service {service.name}, taskSet {ts.id}) has started {len(started)} tasks: "
            f"{_ids([t.arn for t in started])}.",
            now,
        )
    if len(started) < count:
        placement_failed(ecs, service, failures, error, now)
