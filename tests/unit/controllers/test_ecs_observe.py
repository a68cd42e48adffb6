"""Pure parts of ECS observation: service utilization, deployment alarm verdicts, CPU units."""

from __future__ import annotations

import pytest

from dockyard.agent.stats import cpu_units
from dockyard.controllers.deployment_alarms import judge
from dockyard.controllers.ecs_metrics import TaskUsage, utilization
from dockyard.drivers.base import Usage
from dockyard.services.ecs.deployments.model import Deployment, RolloutState


def task(cpu_reserved: float, memory_reserved: float, cpu: list[float],
         memory: list[float]) -> TaskUsage:  # fmt: skip
    usage = TaskUsage("default", "web", cpu_reserved, memory_reserved)
    usage.cpu["app"].extend(cpu)
    usage.memory["app"].extend(memory)
    return usage


def test_service_utilization_is_used_over_reserved_across_tasks() -> None:
    got = utilization([task(256, 512, [256, 512], [128]), task(256, 512, [0.0], [256])])
    avg, low, high, n = got["CPUUtilization"]
    assert (avg, low, high, n) == (75.0, 0.0, 150.0, 2)  # (384 + 0) / 512
    assert got["MemoryUtilization"] == (37.5, 25.0, 50.0, 2)


def test_tasks_without_a_reservation_are_left_out() -> None:
    got = utilization([task(0, 128, [100], [64])])
    assert "CPUUtilization" not in got
    assert got["MemoryUtilization"][0] == 50.0


def test_cpu_units_from_two_readings() -> None:
    assert cpu_units(Usage(0, 0, 10.0), Usage(500_000_000, 0, 11.0)) == 512.0
    assert cpu_units(Usage(5, 0, 10.0), Usage(5, 0, 10.0)) == 0.0


def deployment(state: str, finished_at: float | None = None,
               rollback_of: str | None = None) -> Deployment:  # fmt: skip
    return Deployment(
        id="ecs-svc/1", status="PRIMARY", task_definition_arn="td", launch_type="EC2",
        created_at=0.0, updated_at=0.0, revision_arn="r", deployment_arn="d",
        rollout_state=state, finished_at=finished_at, rollback_of=rollback_of,
    )  # fmt: skip


CONFIG = {"alarmNames": ["a", "b"], "enable": True, "rollback": True}


@pytest.mark.parametrize(
    ("d", "states", "now", "firing", "watched"),
    [
        (deployment(RolloutState.IN_PROGRESS), {"a": ("ALARM", 60.0)}, 100.0, ("a",), True),
        (deployment(RolloutState.IN_PROGRESS), {"a": ("OK", 60.0)}, 100.0, (), True),
        # Within the bake time after completion: still watched.
        (deployment(RolloutState.COMPLETED, 50.0), {"a": ("ALARM", 60.0)}, 100.0, ("a",), True),
        # Past it: no longer.
        (deployment(RolloutState.COMPLETED, 50.0), {"a": ("ALARM", 60.0)}, 171.0, (), False),
        # A rollback deployment is not rolled back again.
        (
            deployment(RolloutState.IN_PROGRESS, rollback_of="x"),
            {"a": ("ALARM", 60.0)},
            1.0,
            (),
            False,
        ),
        (deployment(RolloutState.FAILED), {"a": ("ALARM", 60.0)}, 1.0, (), False),
    ],
)
def test_deployment_alarm_verdicts(
    d: Deployment, states: dict[str, tuple[str, float]], now: float,
    firing: tuple[str, ...], watched: bool,
) -> None:  # fmt: skip
    verdict = judge(d, CONFIG, states, now)
    assert verdict.firing == firing
    assert (verdict.watch_until is not None) == watched
    assert verdict.rollback is watched


def test_disabled_alarms_are_not_watched() -> None:
    assert judge(deployment(RolloutState.IN_PROGRESS), {}, {"a": ("ALARM", 60.0)}, 0).firing == ()
