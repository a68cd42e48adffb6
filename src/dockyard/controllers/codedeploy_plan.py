"""The pure part of the CodeDeploy ECS blue/green controller: given a deployment and what is
observed of its task sets and alarms at `now`, what to do next.

Phases: START -> INSTALL (green task set up and healthy) -> TEST_TRAFFIC -> [READY_WAIT] ->
SHIFTING (production weights per the traffic routing config) -> TERMINATION_WAIT (green is
primary; blue kept for terminationWaitTimeInMinutes) -> DONE. A stop (user, alarm, failing
green tasks, ready-wait timeout) goes to DONE at once, rolling back when asked: traffic back
to blue, blue primary again, green deleted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.services.codedeploy.model import (
    Deployment,
    DeploymentStatus,
    EventStatus,
    Phase,
    TargetStatus,
)

POLL = 2.0  # seconds between looks while waiting on tasks


class Act(StrEnum):
    CREATE_GREEN = "CREATE_GREEN"  # the replacement task set, its target group attached
    POINT_TEST = "POINT_TEST"  # the test listener forwards to green
    SHIFT = "SHIFT"  # the production listener's weights: Plan.weight percent on green
    PROMOTE = "PROMOTE"  # green becomes the PRIMARY task set
    DELETE_BLUE = "DELETE_BLUE"
    RESTORE = "RESTORE"  # all traffic back on blue (production and test); blue PRIMARY
    DELETE_GREEN = "DELETE_GREEN"


@dataclass(frozen=True, slots=True)
class Observed:
    now: float
    green_ready: bool = False  # every green task RUNNING and healthy in its target group
    green_failure: str | None = None  # why the green task set cannot come up
    firing: tuple[str, ...] = ()  # the deployment's alarms in ALARM


@dataclass(slots=True)
class Plan:
    actions: list[Act] = field(default_factory=list)
    weight: int | None = None
    phase: Phase | None = None
    status: DeploymentStatus | None = None
    target_status: TargetStatus | None = None
    events: list[tuple[str, EventStatus]] = field(default_factory=list)
    error: tuple[str, str] | None = None  # (code, message)
    rolled_back: bool = False
    requeue: float | None = None


def traffic_weight(routing: dict[str, Any], since: float, now: float) -> tuple[int, float | None]:
    """The percent of production traffic on green `now` for a shift that began at `since`,
    and when it next changes (None once it is 100)."""
    elapsed = max(0.0, now - since)
    kind = routing.get("type") or "AllAtOnce"
    if kind == "TimeBasedCanary":
        body = routing["timeBasedCanary"]
        percent, interval = int(body["canaryPercentage"]), 60.0 * int(body["canaryInterval"])
        if elapsed < interval:
            return percent, since + interval
        return 100, None
    if kind == "TimeBasedLinear":
        body = routing["timeBasedLinear"]
        percent, interval = int(body["linearPercentage"]), 60.0 * int(body["linearInterval"])
        steps = math.floor(elapsed / interval)
        weight = min(100, percent * (steps + 1))
        return (weight, since + (steps + 1) * interval) if weight < 100 else (100, None)
    return 100, None


def traffic_steps(routing: dict[str, Any]) -> list[tuple[float, int]]:
    """Every (seconds after the shift began, percent on green) of a traffic routing config."""
    steps: list[tuple[float, int]] = []
    at = 0.0
    while True:
        weight, next_at = traffic_weight(routing, 0.0, at)
        steps.append((at, weight))
        if next_at is None:
            return steps
        at = next_at


def _stop_reason(d: Deployment, o: Observed) -> tuple[str, str, bool, DeploymentStatus] | None:
    """(error code, message, roll back?, final status) when the deployment must stop now."""
    events = d.auto_rollback.get("events") or [] if d.auto_rollback.get("enabled") else []
    if d.stop_requested == "MANUAL_STOP":
        message = d.stop_message or "The deployment was stopped by a user request."
        return "MANUAL_STOP", message, d.stop_rollback, DeploymentStatus.STOPPED
    if o.firing and d.alarm_configuration.get("enabled"):
        message = (
            "One or more alarms have been activated according to the Amazon CloudWatch "
            "metrics you selected, and the affected deployments have been stopped. "
            f"Activated alarms: <{', '.join(o.firing)}>"
        )
        rollback = "DEPLOYMENT_STOP_ON_ALARM" in events
        return "ALARM_ACTIVE", message, rollback, DeploymentStatus.STOPPED
    failure = d.stop_message if d.stop_requested == "ECS_UPDATE_ERROR" else o.green_failure
    if failure:
        return "ECS_UPDATE_ERROR", failure, "DEPLOYMENT_FAILURE" in events, DeploymentStatus.FAILED
    return None


def _stop(d: Deployment, code: str, message: str, rollback: bool,
          status: DeploymentStatus) -> Plan:  # fmt: skip
    plan = Plan(phase=Phase.DONE, status=status, error=(code, message), rolled_back=rollback)
    plan.target_status = TargetStatus.FAILED
    if rollback:
        plan.actions = [Act.RESTORE, Act.DELETE_GREEN]
    for event in d.events:
        if event.status == EventStatus.IN_PROGRESS:
            plan.events.append((event.name, EventStatus.FAILED))
        elif event.status == EventStatus.PENDING:
            plan.events.append((event.name, EventStatus.SKIPPED))
    return plan


def plan(d: Deployment, o: Observed) -> Plan:
    if d.finished or d.phase == Phase.DONE:
        return Plan()
    now = o.now
    stop = _stop_reason(d, o)
    if stop is not None:
        code, message, rollback, status = stop
        return _stop(d, code, message, rollback, status)
    ready_option = d.blue_green.get("deploymentReadyOption") or {}
    if d.phase == Phase.START:
        return Plan(
            actions=[Act.CREATE_GREEN],
            phase=Phase.INSTALL,
            status=DeploymentStatus.IN_PROGRESS,
            target_status=TargetStatus.IN_PROGRESS,
            events=[("BeforeInstall", EventStatus.SUCCEEDED), ("Install", EventStatus.IN_PROGRESS)],
            requeue=POLL,
        )
    if d.phase == Phase.INSTALL:
        if not o.green_ready:
            return Plan(requeue=POLL)
        return Plan(
            phase=Phase.TEST_TRAFFIC,
            events=[("Install", EventStatus.SUCCEEDED), ("AfterInstall", EventStatus.SUCCEEDED)],
            requeue=0.0,
        )
    if d.phase == Phase.TEST_TRAFFIC:
        has_test = bool(d.load_balancer_info["targetGroupPairInfoList"][0].get("testTrafficRoute"))
        done = EventStatus.SUCCEEDED if has_test else EventStatus.SKIPPED
        out = Plan(
            actions=[Act.POINT_TEST] if has_test else [],
            events=[("AllowTestTraffic", done), ("AfterAllowTestTraffic", done)],
            requeue=0.0,
        )
        if ready_option.get("actionOnTimeout") == "STOP_DEPLOYMENT":
            out.phase, out.status = Phase.READY_WAIT, DeploymentStatus.READY
            out.target_status = TargetStatus.READY
        else:
            out.phase = Phase.SHIFTING
            out.events += [("BeforeAllowTraffic", EventStatus.SUCCEEDED),
                           ("AllowTraffic", EventStatus.IN_PROGRESS)]  # fmt: skip
        return out
    if d.phase == Phase.READY_WAIT:
        if d.continue_requested:
            return Plan(
                phase=Phase.SHIFTING,
                status=DeploymentStatus.IN_PROGRESS,
                target_status=TargetStatus.IN_PROGRESS,
                events=[("BeforeAllowTraffic", EventStatus.SUCCEEDED),
                        ("AllowTraffic", EventStatus.IN_PROGRESS)],
                requeue=0.0,
            )  # fmt: skip
        deadline = d.phase_since + 60.0 * int(ready_option.get("waitTimeInMinutes") or 0)
        if now >= deadline:
            message = (
                "The deployment timed out while waiting for traffic to be rerouted "
                "(ContinueDeployment was not called within waitTimeInMinutes)."
            )
            return _stop(d, "TIMEOUT", message, True, DeploymentStatus.STOPPED)
        return Plan(requeue=deadline - now)
    if d.phase == Phase.SHIFTING:
        weight, next_at = traffic_weight(d.traffic_routing, d.phase_since, now)
        out = Plan()
        if weight != d.green_weight:
            out.actions.append(Act.SHIFT)
            out.weight = weight
        if weight < 100:
            out.requeue = max(0.0, (next_at or now) - now)
            return out
        out.actions.append(Act.PROMOTE)
        out.phase = Phase.TERMINATION_WAIT
        out.events = [("AllowTraffic", EventStatus.SUCCEEDED),
                      ("AfterAllowTraffic", EventStatus.SUCCEEDED)]  # fmt: skip
        out.requeue = 0.0
        return out
    if d.phase == Phase.TERMINATION_WAIT:
        terminate = d.blue_green.get("terminateBlueInstancesOnDeploymentSuccess") or {}
        deadline = d.phase_since + 60.0 * int(terminate.get("terminationWaitTimeInMinutes") or 0)
        if d.skip_termination_wait or now >= deadline:
            return Plan(
                actions=[Act.DELETE_BLUE],
                phase=Phase.DONE,
                status=DeploymentStatus.SUCCEEDED,
                target_status=TargetStatus.SUCCEEDED,
            )
        return Plan(requeue=deadline - now)
    return Plan()
