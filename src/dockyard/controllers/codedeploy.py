"""The CodeDeploy ECS blue/green controller: moves each deployment along its phases (pure
`codedeploy_plan.plan`) by creating, promoting and deleting ECS task sets and by changing the
weights of the production and test listeners' forward actions, which the data plane routes.

Keys are deployment keys (account/region/id). A deployment is enqueued when it is saved
(created, stopped, continued), when one of its alarms changes state, when a task of its
service changes state, and again whenever its plan asks (bake and wait times on the clock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dockyard.controllers.codedeploy_plan import Act, Observed, Plan, plan
from dockyard.controllers.runtime import Runtime
from dockyard.controllers.service_observe import service_tasks, target_of
from dockyard.core.alarmwatch import AlarmStates
from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope as ElbScope
from dockyard.services.codedeploy.model import (
    ECS_EVENTS,
    Deployment,
    DeploymentStatus,
    EventStatus,
    LifecycleEvent,
    Phase,
)
from dockyard.services.codedeploy.service import CodeDeploy, new_deployment_id
from dockyard.services.ecs.deployments import validation as rules
from dockyard.services.ecs.deployments.model import (
    EcsService,
    ServiceStatus,
    TaskSetStatus,
    computed_count,
)
from dockyard.services.ecs.deployments.task_sets import (
    delete_task_set,
    find_task_set,
    make_primary,
    new_task_set,
)
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.model import LastStatus, StopCode
from dockyard.services.elbv2.model import Action, WeightedGroup
from dockyard.services.elbv2.service import Elbv2

log = logging.getLogger(__name__)

FAILED_TASKS_LIMIT = 3  # green tasks that stop on their own before the deployment fails
RESYNC = 30.0


class DeploymentError(Exception):
    """An action cannot be carried out: the deployment fails with this message."""


class CodeDeployController:
    def __init__(self, cd: CodeDeploy, ecs: Ecs, elb: Elbv2, clock: Clock,
                 alarms: AlarmStates | None = None) -> None:  # fmt: skip
        self.cd = cd
        self.ecs = ecs
        self.elb = elb
        self.clock = clock
        self.alarms = alarms
        self.runtime = Runtime("codedeploy", self.reconcile, clock, workers=1)
        self._unsubscribe: list[Callable[[], None]] = []

    # -- wiring ---------------------------------------------------------------------------

    def start(self) -> None:
        self._unsubscribe.append(self.cd.watch(lambda d: self.runtime.enqueue(d.key)))
        self._unsubscribe.append(self.ecs.events.subscribe(self._ecs_event))
        if self.alarms is not None:
            self._unsubscribe.append(self.alarms.watch_states(self._alarm_changed))
        self.runtime.start()
        for d in list(self.cd.deployments.values()):
            if not d.finished:
                self.runtime.enqueue(d.key)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await self.runtime.stop()

    def _active(self) -> list[Deployment]:
        return [d for d in self.cd.deployments.values() if not d.finished]

    def _ecs_event(self, event: dict[str, Any]) -> None:
        if event.get("detail-type") != "ECS Task State Change":
            return
        group = str((event.get("detail") or {}).get("group") or "")
        for d in self._active():
            if group == f"service:{d.service}":
                self.runtime.enqueue(d.key)

    def _alarm_changed(self, account_id: str, region: str, name: str, state: str) -> None:
        for d in self._active():
            names = [a["name"] for a in d.alarm_configuration.get("alarms") or []]
            if (d.account_id, d.region) == (account_id, region) and name in names:
                self.runtime.enqueue(d.key)

    # -- observing ------------------------------------------------------------------------

    def _service(self, d: Deployment) -> EcsService | None:
        service = self.ecs.services.by_arn.get(d.service_arn)
        return service if service is not None and service.status == ServiceStatus.ACTIVE else None

    def _green_state(self, d: Deployment, service: EcsService) -> tuple[bool, str | None]:
        """(every green task RUNNING and healthy, why green cannot come up)."""
        ts = find_task_set(service, d.green_task_set)
        if ts is None:
            return False, None
        scope = service.scope
        groups = self.ecs.target_groups
        want = computed_count(service, ts)
        tasks = [t for t in service_tasks(self.ecs, service) if t.started_by == ts.id]
        failed = [
            t for t in tasks
            if t.is_stopped and t.stop_code != StopCode.SERVICE_SCHEDULER_INITIATED
        ]  # fmt: skip
        if len(failed) >= FAILED_TASKS_LIMIT:
            reason = failed[-1].stopped_reason or "Essential container in task exited"
            return False, (
                f"The ECS service cannot reach a steady state: {len(failed)} tasks of the "
                f"replacement task set {ts.id} stopped. Last reason: {reason}"
            )
        running = [t for t in tasks if not t.is_stopped and t.last_status == LastStatus.RUNNING]
        if want == 0 or len(running) < want:
            return False, None
        if groups is None:
            return True, None
        for task in running:
            for lb in ts.load_balancers:
                target = target_of(self.ecs, task, lb)
                tg = str(lb.get("targetGroupArn") or "")
                if target is None:
                    return False, None
                state = groups.health(scope.account_id, scope.region, tg, target)
                if state not in ("healthy", "unavailable"):
                    return False, None
        return True, None

    def _firing(self, d: Deployment) -> tuple[str, ...]:
        if self.alarms is None or not d.alarm_configuration.get("enabled"):
            return ()
        names = [a["name"] for a in d.alarm_configuration.get("alarms") or []]
        firing = []
        for name in names:
            status = self.alarms.alarm_status(d.account_id, d.region, name)
            if status is not None and status.state == "ALARM":
                firing.append(name)
        return tuple(firing)

    # -- reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        d = self.cd.deployments.get(key)
        if d is None or d.finished:
            return None
        now = self.clock.now()
        service = self._service(d)
        if service is None:
            observed = Observed(now, green_failure=f"The ECS service {d.service} is not ACTIVE.")
            decided = plan(d, observed)
        else:
            ready, failure = self._green_state(d, service) if d.green_task_set else (False, None)
            decided = plan(d, Observed(now, ready, failure, self._firing(d)))
        try:
            self.apply(d, service, decided, now)
        except DeploymentError as exc:
            log.warning("codedeploy: deployment %s cannot go on: %s", d.id, exc,
                        extra={"deployment_id": d.id})  # fmt: skip
            d.stop_requested, d.stop_message = "ECS_UPDATE_ERROR", str(exc)
            self.cd.save_deployment(d, notify=False)
            return 0.0
        if service is not None:
            self.refresh_task_sets(d, service)
        self.cd.save_deployment(d, notify=False)
        if d.finished:
            self.cd.record_outcome(d)
            return None
        return decided.requeue if decided.requeue is not None else RESYNC

    def refresh_task_sets(self, d: Deployment, service: EcsService) -> None:
        """The target's taskSetsInfo: blue and green as ECS has them now."""
        info = []
        for label, ts_id, tg, weight in (
            ("Blue", d.blue_task_set, d.blue_target_group, 100 - d.green_weight),
            ("Green", d.green_task_set, d.green_target_group, d.green_weight),
        ):
            ts = find_task_set(service, ts_id)
            if ts is None:
                continue
            tg_name = tg.split("/")[-2] if tg and tg.count("/") >= 2 else tg
            info.append({
                "identifer": ts.id, "desiredCount": computed_count(service, ts),
                "pendingCount": ts.pending_count, "runningCount": ts.running_count,
                "status": ts.status, "trafficWeight": float(weight),
                "targetGroup": {"name": tg_name or ""}, "taskSetLabel": label,
            })  # fmt: skip
        d.task_sets_info = info

    # -- applying -------------------------------------------------------------------------

    def apply(self, d: Deployment, service: EcsService | None, p: Plan, now: float) -> None:
        for act in p.actions:
            if service is None:
                if act in (Act.RESTORE, Act.DELETE_GREEN):
                    continue  # nothing left to restore
                raise DeploymentError(f"The ECS service {d.service} is not ACTIVE.")
            self._act(d, service, act, p, now)
        if service is not None and p.actions:
            self.ecs.services.save(service)
        for name, status in p.events:
            event = d.event(name)
            if status == EventStatus.IN_PROGRESS or event.start is None:
                event.start = now
            if status != EventStatus.IN_PROGRESS:
                event.end = now
            event.status = status
        if p.phase is not None and p.phase != d.phase:
            d.phase, d.phase_since = p.phase, now
            if p.phase == Phase.TERMINATION_WAIT:
                d.termination_wait_started = True
        if p.status is not None and p.status != d.status:
            d.status = p.status
            if p.status == DeploymentStatus.IN_PROGRESS and d.start is None:
                d.start = now
            if d.finished:
                d.complete = now
            log.info("codedeploy: deployment %s is %s", d.id, d.status,
                     extra={"deployment_id": d.id})  # fmt: skip
        if p.target_status is not None:
            d.target_status = p.target_status
        if p.events or p.target_status is not None or p.actions:
            d.target_updated = now
        if p.error is not None:
            d.error_code, d.error_message = p.error
        if p.rolled_back:
            self._record_rollback(d, now)

    def _act(self, d: Deployment, service: EcsService, act: Act, p: Plan, now: float) -> None:
        if act == Act.CREATE_GREEN:
            self._create_green(d, service, now)
        elif act == Act.POINT_TEST:
            for arn in self._route(d, "testTrafficRoute"):
                self._forward(d, arn, {d.green_target_group or "": 1}, single=True)
        elif act == Act.SHIFT and p.weight is not None:
            self._shift(d, p.weight)
        elif act == Act.PROMOTE:
            green = find_task_set(service, d.green_task_set)
            if green is not None:
                make_primary(service, green, now)
        elif act == Act.DELETE_BLUE:
            blue = find_task_set(service, d.blue_task_set)
            if blue is not None:
                delete_task_set(blue, now)
        elif act == Act.RESTORE:
            if d.blue_target_group and d.green_target_group:
                self._shift(d, 0)
                for arn in self._route(d, "testTrafficRoute"):
                    self._forward(d, arn, {d.blue_target_group: 1}, single=True)
            blue = find_task_set(service, d.blue_task_set)
            if blue is not None and blue.status != TaskSetStatus.DRAINING:
                make_primary(service, blue, now)
        elif act == Act.DELETE_GREEN:
            green = find_task_set(service, d.green_task_set)
            if green is not None:
                delete_task_set(green, now)

    def _route(self, d: Deployment, which: str) -> list[str]:
        pair = d.load_balancer_info["targetGroupPairInfoList"][0]
        return list((pair.get(which) or {}).get("listenerArns") or [])

    def _create_green(self, d: Deployment, service: EcsService, now: float) -> None:
        blue = next((ts for ts in service.task_sets if ts.status == TaskSetStatus.PRIMARY), None)
        if blue is None:
            raise DeploymentError(f"The ECS service {service.name} has no primary task set.")
        scope = ElbScope(d.account_id, d.region)
        pair = d.load_balancer_info["targetGroupPairInfoList"][0]
        arns = []
        for item in pair["targetGroups"]:
            tg = self.elb.directory.tg_by_name(scope, item["name"])
            if tg is None:
                raise DeploymentError(f"The target group {item['name']} does not exist.")
            arns.append(tg.arn)
        blue_tgs = {str(lb.get("targetGroupArn")) for lb in blue.load_balancers}
        blue_tg = next((a for a in arns if a in blue_tgs), arns[0])
        green_tg = next(a for a in arns if a != blue_tg)
        d.blue_task_set, d.blue_target_group, d.green_target_group = blue.id, blue_tg, green_tg
        spec = d.appspec
        lbs = [{"targetGroupArn": green_tg, "containerName": spec.container_name,
                "containerPort": spec.container_port}]  # fmt: skip
        try:
            taskdef = self.ecs.taskdefs.resolve(service.scope, spec.task_definition,
                                                launchable=True)  # fmt: skip
            lbs = rules.load_balancers(lbs, taskdef, self.ecs.target_groups, service.scope)
        except ServiceError as exc:
            raise DeploymentError(exc.message) from exc
        # The green target group joins the production forward at weight 0: health checked,
        # no traffic yet.
        self._shift(d, 0)
        green = new_task_set(
            service, task_definition_arn=taskdef["taskDefinitionArn"],
            launch_type=service.launch_type, load_balancers=lbs,
            network_configuration=spec.network_configuration or service.network_configuration,
            platform_version=spec.platform_version or service.platform_version, now=now,
            started_by="CodeDeploy", external_id=d.id,
        )  # fmt: skip
        d.green_task_set = green.id
        service.add_event(
            f"(service {service.name}, taskSet {green.id}) has begun a CodeDeploy deployment "
            f"({d.id}).",
            now,
        )

    def _shift(self, d: Deployment, weight: int) -> None:
        if not d.blue_target_group or not d.green_target_group:
            return
        for arn in self._route(d, "prodTrafficRoute"):
            self._forward(d, arn, {d.blue_target_group: 100 - weight, d.green_target_group: weight})
        d.green_weight = weight

    def _forward(self, d: Deployment, listener_arn: str, weights: dict[str, int],
                 single: bool = False) -> None:  # fmt: skip
        """Replace the listener's default forward to the pair's target groups."""
        listener = self.elb.directory.listeners.get(listener_arn)
        if listener is None:
            raise DeploymentError(f"The listener {listener_arn} does not exist.")
        pair = {d.blue_target_group, d.green_target_group}
        actions = list(listener.default_actions)
        index = next(
            (i for i, a in enumerate(actions)
             if a.type == "forward" and set(a.target_group_arns()) & pair),
            None,
        )  # fmt: skip
        if index is None:
            raise DeploymentError(
                f"The listener {listener_arn} does not forward to the deployment group's "
                "target groups."
            )
        old = actions[index]
        if single:
            (tg,) = weights
            new = Action(type="forward", order=old.order, target_group_arn=tg)
        else:
            new = Action(
                type="forward", order=old.order, forward_config=True,
                groups=[WeightedGroup(tg, w) for tg, w in weights.items()],
                group_stickiness=old.group_stickiness,
                group_stickiness_seconds=old.group_stickiness_seconds,
            )  # fmt: skip
        actions[index] = new
        try:
            self.elb.modify_listener(listener, port=None, protocol=None, actions=actions,
                                     certificates=None, ssl_policy=None)  # fmt: skip
        except ServiceError as exc:
            raise DeploymentError(exc.message) from exc

    def _record_rollback(self, d: Deployment, now: float) -> None:
        """The rollback, carried out just now, as its own (finished) deployment."""
        rollback = Deployment.from_dict(d.to_dict())
        rollback.id = new_deployment_id()
        rollback.creator = "codeDeployRollback"
        rollback.revision = d.previous_revision or d.revision
        rollback.previous_revision = d.revision
        rollback.created = rollback.start = rollback.complete = now
        rollback.status = DeploymentStatus.SUCCEEDED
        rollback.error_code = rollback.error_message = None
        rollback.stop_requested = rollback.stop_message = None
        rollback.phase, rollback.phase_since = Phase.DONE, now
        rollback.rollback_info = {"rollbackTriggeringDeploymentId": d.id}
        rollback.target_status = "Succeeded"
        rollback.events = [
            LifecycleEvent(
                name,
                EventStatus.SUCCEEDED
                if name in ("BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
                else EventStatus.SKIPPED,
                now, now,
            )
            for name in ECS_EVENTS
        ]  # fmt: skip
        rollback.green_weight = 0
        self.cd.save_deployment(rollback, notify=False)
        d.rollback_info = {
            "rollbackDeploymentId": rollback.id,
            "rollbackMessage": f"Deployment {d.id} has been rolled back by deployment "
            f"{rollback.id}: traffic is back on the original task set and the replacement "
            "task set was deleted.",
        }
        d.rolled_back = True
