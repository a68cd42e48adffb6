"""The CodeDeploy ECS blue/green plan: traffic steps per config, phases, stops and rollbacks."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.controllers.codedeploy_plan import (
    Act,
    Observed,
    plan,
    traffic_steps,
    traffic_weight,
)
from dockyard.services.codedeploy.configs import predefined
from dockyard.services.codedeploy.model import (
    ECS_EVENTS,
    Deployment,
    DeploymentStatus,
    EcsAppSpec,
    EventStatus,
    LifecycleEvent,
    Phase,
)

T0 = 1_700_000_000.0


def routing(name: str) -> dict[str, Any]:
    config = predefined()[name].traffic_routing
    assert config is not None
    return config


@pytest.mark.parametrize(
    ("config", "steps"),
    [
        ({"type": "AllAtOnce"}, [(0.0, 100)]),
        (routing("CodeDeployDefault.ECSCanary10Percent5Minutes"), [(0.0, 10), (300.0, 100)]),
        (routing("CodeDeployDefault.ECSCanary10Percent15Minutes"), [(0.0, 10), (900.0, 100)]),
        (
            routing("CodeDeployDefault.ECSLinear10PercentEvery1Minutes"),
            [(60.0 * i, 10 * (i + 1)) for i in range(10)],
        ),
        (
            routing("CodeDeployDefault.ECSLinear10PercentEvery3Minutes"),
            [(180.0 * i, 10 * (i + 1)) for i in range(10)],
        ),
        (
            {"type": "TimeBasedLinear",
             "timeBasedLinear": {"linearPercentage": 30, "linearInterval": 2}},
            [(0.0, 30), (120.0, 60), (240.0, 90), (360.0, 100)],
        ),
        (
            {"type": "TimeBasedCanary",
             "timeBasedCanary": {"canaryPercentage": 25, "canaryInterval": 1}},
            [(0.0, 25), (60.0, 100)],
        ),
    ],
)  # fmt: skip
def test_traffic_steps(config: dict[str, Any], steps: list[tuple[float, int]]) -> None:
    assert traffic_steps(config) == steps


def test_traffic_weight_between_steps() -> None:
    canary = routing("CodeDeployDefault.ECSCanary10Percent5Minutes")
    assert traffic_weight(canary, T0, T0 + 299.9) == (10, T0 + 300)
    assert traffic_weight(canary, T0, T0 + 300) == (100, None)
    linear = routing("CodeDeployDefault.ECSLinear10PercentEvery1Minutes")
    assert traffic_weight(linear, T0, T0 + 150) == (30, T0 + 180)


def deployment(**changes: Any) -> Deployment:
    d = Deployment(
        id="d-ABCDEFGHI", account_id="000000000000", region="us-east-1",
        application_name="app", group_name="group",
        config_name="CodeDeployDefault.ECSCanary10Percent5Minutes", revision={},
        appspec=EcsAppSpec("web:2", "web", 8080), created=T0, cluster="default",
        service="web", service_arn="arn:aws:ecs:us-east-1:000000000000:service/default/web",
        traffic_routing=routing("CodeDeployDefault.ECSCanary10Percent5Minutes"),
        blue_green={
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT",
                                      "waitTimeInMinutes": 0},
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE", "terminationWaitTimeInMinutes": 5},
        },
        load_balancer_info={"targetGroupPairInfoList": [{
            "targetGroups": [{"name": "blue"}, {"name": "green"}],
            "prodTrafficRoute": {"listenerArns": ["prod"]},
            "testTrafficRoute": {"listenerArns": ["test"]},
        }]},
        deployment_style={"deploymentType": "BLUE_GREEN",
                          "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        events=[LifecycleEvent(n) for n in ECS_EVENTS], phase_since=T0,
    )  # fmt: skip
    for key, value in changes.items():
        setattr(d, key, value)
    return d


def test_start_creates_the_green_task_set() -> None:
    p = plan(deployment(), Observed(T0))
    assert p.actions == [Act.CREATE_GREEN]
    assert p.phase == Phase.INSTALL and p.status == DeploymentStatus.IN_PROGRESS
    assert p.events == [("BeforeInstall", "Succeeded"), ("Install", "InProgress")]


def test_install_waits_for_healthy_green_then_points_test_traffic() -> None:
    d = deployment(phase=Phase.INSTALL)
    waiting = plan(d, Observed(T0 + 10))
    assert waiting.actions == [] and waiting.phase is None and waiting.requeue
    ready = plan(d, Observed(T0 + 10, green_ready=True))
    assert ready.phase == Phase.TEST_TRAFFIC
    test = plan(deployment(phase=Phase.TEST_TRAFFIC), Observed(T0 + 11))
    assert test.actions == [Act.POINT_TEST] and test.phase == Phase.SHIFTING
    assert ("AllowTestTraffic", EventStatus.SUCCEEDED) in test.events


def test_stop_deployment_ready_option_waits_for_continue() -> None:
    blue_green = {
        "deploymentReadyOption": {"actionOnTimeout": "STOP_DEPLOYMENT", "waitTimeInMinutes": 10},
        "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE"},
    }
    test = plan(deployment(phase=Phase.TEST_TRAFFIC, blue_green=blue_green), Observed(T0))
    assert test.phase == Phase.READY_WAIT and test.status == DeploymentStatus.READY
    d = deployment(phase=Phase.READY_WAIT, blue_green=blue_green, status="Ready")
    assert plan(d, Observed(T0 + 60)).requeue == 540
    d.continue_requested = True
    assert plan(d, Observed(T0 + 60)).phase == Phase.SHIFTING
    d.continue_requested = False
    timeout = plan(d, Observed(T0 + 600))
    assert timeout.status == DeploymentStatus.STOPPED and timeout.error is not None
    assert timeout.error[0] == "TIMEOUT" and Act.RESTORE in timeout.actions


def test_shifting_follows_the_canary_then_promotes_and_waits_to_terminate() -> None:
    d = deployment(phase=Phase.SHIFTING, phase_since=T0)
    first = plan(d, Observed(T0))
    assert first.actions == [Act.SHIFT] and first.weight == 10 and first.requeue == 300
    d.green_weight = 10
    assert plan(d, Observed(T0 + 100)).actions == []
    full = plan(d, Observed(T0 + 300))
    assert full.actions == [Act.SHIFT, Act.PROMOTE] and full.weight == 100
    assert full.phase == Phase.TERMINATION_WAIT
    d = deployment(phase=Phase.TERMINATION_WAIT, phase_since=T0)
    assert plan(d, Observed(T0 + 10)).requeue == 290
    done = plan(d, Observed(T0 + 300))
    assert done.actions == [Act.DELETE_BLUE] and done.status == DeploymentStatus.SUCCEEDED
    d.skip_termination_wait = True
    assert plan(d, Observed(T0 + 10)).status == DeploymentStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("changes", "observed", "code", "status", "rollback"),
    [
        ({"stop_requested": "MANUAL_STOP", "stop_rollback": True}, {}, "MANUAL_STOP",
         "Stopped", True),
        ({"stop_requested": "MANUAL_STOP"}, {}, "MANUAL_STOP", "Stopped", False),
        ({"alarm_configuration": {"enabled": True, "alarms": [{"name": "5xx"}]},
          "auto_rollback": {"enabled": True, "events": ["DEPLOYMENT_STOP_ON_ALARM"]}},
         {"firing": ("5xx",)}, "ALARM_ACTIVE", "Stopped", True),
        ({"alarm_configuration": {"enabled": False, "alarms": [{"name": "5xx"}]}},
         {"firing": ("5xx",)}, None, None, False),
        ({"auto_rollback": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}},
         {"green_failure": "tasks stopped"}, "ECS_UPDATE_ERROR", "Failed", True),
        ({}, {"green_failure": "tasks stopped"}, "ECS_UPDATE_ERROR", "Failed", False),
    ],
)  # fmt: skip
def test_stops_and_rollbacks(
    changes: dict[str, Any],
    observed: dict[str, Any],
    code: str | None,
    status: str | None,
    rollback: bool,
) -> None:
    d = deployment(phase=Phase.SHIFTING, green_weight=10, **changes)
    d.event("Install").status = EventStatus.SUCCEEDED
    d.event("AllowTraffic").status = EventStatus.IN_PROGRESS
    p = plan(d, Observed(T0 + 10, **observed))
    if code is None:
        assert p.error is None and p.status is None
        return
    assert p.error is not None and p.error[0] == code
    assert p.status == status and p.phase == Phase.DONE and p.rolled_back is rollback
    assert p.actions == ([Act.RESTORE, Act.DELETE_GREEN] if rollback else [])
    assert ("AllowTraffic", EventStatus.FAILED) in p.events
    assert ("AfterAllowTraffic", EventStatus.SKIPPED) in p.events


def test_a_finished_deployment_is_left_alone() -> None:
    p = plan(deployment(status="Succeeded", phase=Phase.DONE), Observed(T0))
    assert p.actions == [] and p.requeue is None
