"""ECS deployment alarms: a deployment fails, and rolls back when asked, when one of the
CloudWatch alarms named in its deploymentConfiguration.alarms is in ALARM.

Keys are service ARNs. A service's primary deployment is watched while it is in progress and
for a bake time after it completed (twice the longest look-back among its alarms, so an alarm
has time to see the new revision's data). Unlike ECS, the deployment shows COMPLETED during
its bake time. A change of any alarm's state
and every save of a service enqueue it; a watched service is looked at again every
`POLL` seconds as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dockyard.controllers.runtime import Runtime
from dockyard.core.alarmwatch import AlarmStates
from dockyard.core.clock import Clock
from dockyard.services.ecs.deployments import rollout
from dockyard.services.ecs.deployments.model import (
    Deployment,
    EcsService,
    RolloutState,
    ServiceStatus,
)
from dockyard.services.ecs.service import Ecs

log = logging.getLogger(__name__)

POLL = 10.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the alarms say about a service's primary deployment (pure `judge`)."""

    firing: tuple[str, ...] = ()  # alarms in ALARM
    watch_until: float | None = None  # clock time the deployment stops being watched
    rollback: bool = False


def alarm_config(service: EcsService, deployment: Deployment) -> dict[str, Any]:
    config = deployment.deployment_configuration or service.deployment_configuration
    alarms = config.get("alarms") or {}
    return alarms if alarms.get("enable") and alarms.get("alarmNames") else {}


def judge(
    deployment: Deployment,
    config: dict[str, Any],
    states: dict[str, tuple[str, float]],
    now: float,
) -> Verdict:
    """`states`: alarm name -> (state, look-back seconds) for the alarms that exist."""
    if not config or deployment.rollback_of is not None:
        return Verdict()  # a rollback is not itself rolled back
    bake = 2 * max((window for _, window in states.values()), default=0.0)
    if deployment.rollout_state == RolloutState.IN_PROGRESS:
        until = now + bake
    elif deployment.rollout_state == RolloutState.COMPLETED and deployment.finished_at:
        until = deployment.finished_at + bake
        if until <= now:
            return Verdict()
    else:
        return Verdict()
    firing = tuple(sorted(n for n, (state, _) in states.items() if state == "ALARM"))
    return Verdict(firing, until, bool(config.get("rollback")))


class DeploymentAlarmController:
    def __init__(self, ecs: Ecs, alarms: AlarmStates, clock: Clock) -> None:
        self.ecs = ecs
        self.alarms = alarms
        self.clock = clock
        self.runtime = Runtime("deployment-alarms", self.reconcile, clock, workers=1)
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        self._unsubscribe.append(self.ecs.services.watch(lambda s: self.runtime.enqueue(s.arn)))
        self._unsubscribe.append(self.alarms.watch_states(self._alarm_changed))
        self.runtime.start()
        for service in list(self.ecs.services.by_arn.values()):
            if service.status == ServiceStatus.ACTIVE:
                self.runtime.enqueue(service.arn)

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        await self.runtime.stop()

    def _alarm_changed(self, account_id: str, region: str, name: str, state: str) -> None:
        if state != "ALARM":
            return
        for service in list(self.ecs.services.by_arn.values()):
            scope = service.scope
            if service.status != ServiceStatus.ACTIVE or (scope.account_id, scope.region) != (
                account_id, region,
            ):  # fmt: skip
                continue
            names = (service.deployment_configuration.get("alarms") or {}).get("alarmNames")
            primary = service.primary
            if primary is not None:
                names = (alarm_config(service, primary) or {}).get("alarmNames") or names
            if name in (names or []):
                self.runtime.enqueue(service.arn)

    async def reconcile(self, key: str) -> float | None:
        service = self.ecs.services.by_arn.get(key)
        if (
            service is None
            or service.status != ServiceStatus.ACTIVE
            or service.deployment_controller != "ECS"
        ):
            return None
        deployment = service.primary
        if deployment is None:
            return None
        config = alarm_config(service, deployment)
        if not config:
            return None
        scope = service.scope
        states: dict[str, tuple[str, float]] = {}
        for name in config["alarmNames"]:
            status = self.alarms.alarm_status(scope.account_id, scope.region, name)
            if status is not None:
                states[name] = (status.state, status.window)
        now = self.clock.now()
        verdict = judge(deployment, config, states, now)
        if verdict.watch_until is None:
            return None
        if verdict.firing:
            self.fail(service, deployment, verdict, now)
            return None
        return max(0.0, min(POLL, verdict.watch_until - now)) or None

    def fail(self, service: EcsService, deployment: Deployment, verdict: Verdict,
             now: float) -> None:  # fmt: skip
        log.warning("deployment %s of %s failed on alarms %s", deployment.id, service.name,
                    ", ".join(verdict.firing), extra={"arn": service.arn})  # fmt: skip
        rollout.end(self.ecs, service, deployment, rollout.alarms(verdict.firing, verdict.rollback),
                    now)  # fmt: skip
        self.ecs.services.save(service)
