"""The service scheduler's pure plan: ECS's rolling update rules as table tests."""

from __future__ import annotations

import pytest

from dockyard.controllers.service_plan import (
    REASON_CONTAINER_HEALTH,
    REASON_DRAINING,
    DeploymentView,
    Desired,
    HostView,
    Observed,
    Plan,
    TaskView,
    failure_threshold,
    max_tasks,
    min_healthy,
    plan,
)

NOW = 1_000.0
OLD, NEW = "ecs-svc/1", "ecs-svc/2"
HOST = "arn:aws:ecs:us-east-1:1:container-instance/default/a"


def task(n: int, deployment: str = OLD, status: str = "RUNNING", **kw: object) -> TaskView:
    fields: dict[str, object] = {
        "arn": f"task-{deployment[-1]}-{n}",
        "deployment_id": deployment,
        "host_arn": HOST,
        "last_status": status,
        "started_at": NOW - 100 if status == "RUNNING" else None,
        "created_at": NOW - 200 + n,
    }
    fields.update(kw)
    return TaskView(**fields)  # type: ignore[arg-type]


def desired(
    count: int, low: int = 100, high: int = 200, rolling: bool = True, **kw: object
) -> Desired:
    deployments: tuple[DeploymentView, ...] = (
        DeploymentView(NEW, True),
        DeploymentView(OLD, False, "COMPLETED"),
    )
    if not rolling:
        deployments = (DeploymentView(OLD, True, "COMPLETED"),)
    return Desired(
        name="web", desired_count=count, deployments=deployments, min_percent=low,
        max_percent=high, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def started(p: Plan) -> int:
    return sum(s.count for s in p.start)


@pytest.mark.parametrize(
    ("count", "percent", "low", "high"),
    [(4, 50, 2, 2), (3, 50, 2, 1), (1, 100, 1, 1), (1, 200, 2, 2), (0, 100, 0, 0), (5, 150, 8, 7)],
)
def test_rounding(count: int, percent: int, low: int, high: int) -> None:
    assert min_healthy(count, percent) == low  # rounded up
    assert max_tasks(count, percent) == high  # rounded down


@pytest.mark.parametrize(("count", "threshold"), [(1, 3), (4, 3), (7, 4), (10, 5), (1000, 200)])
def test_circuit_breaker_threshold(count: int, threshold: int) -> None:
    assert failure_threshold(count) == threshold


@pytest.mark.parametrize(
    ("count", "low", "high", "old", "expect_start", "expect_stop"),
    [
        (1, 100, 200, 1, 1, 0),  # desired 1, 200/100: start the new one first
        (2, 50, 100, 2, 0, 1),  # desired 2, 100/50: stop one, then start one
        (4, 50, 100, 4, 0, 2),
        (4, 100, 200, 4, 4, 0),
        (4, 0, 100, 4, 0, 4),
        (0, 100, 200, 2, 0, 2),  # desired 0: everything goes
    ],
)
def test_first_step_of_a_rolling_deployment(
    count: int, low: int, high: int, old: int, expect_start: int, expect_stop: int
) -> None:
    tasks = tuple(task(i) for i in range(old))
    p = plan(desired(count, low, high), Observed(tasks), NOW)
    assert started(p) == expect_start
    assert len(p.stop) == expect_stop
    assert p.completed is None


def test_old_tasks_go_once_new_ones_are_healthy() -> None:
    tasks = (task(0), task(1), task(0, NEW), task(1, NEW))
    p = plan(desired(2, 100, 200), Observed(tasks), NOW)
    assert started(p) == 0
    assert sorted(s.task_arn for s in p.stop) == ["task-1-0", "task-1-1"]


def test_new_tasks_not_yet_settled_keep_the_old_ones() -> None:
    # Without health checks a task counts as healthy 40 s after it started RUNNING.
    tasks = (task(0), task(0, NEW, started_at=NOW - 5))
    p = plan(desired(1, 100, 200), Observed(tasks), NOW)
    assert p.stop == [] and started(p) == 0
    assert p.requeue_after is not None and p.requeue_after <= 35


def test_stopping_tasks_count_towards_the_maximum() -> None:
    tasks = (task(0), task(1, desired_status="STOPPED", status="STOPPING"))
    p = plan(desired(2, 50, 100), Observed(tasks), NOW)
    assert started(p) == 0  # 2 tasks exist (one STOPPING): no room until it is STOPPED


def test_completed_when_only_healthy_new_tasks_remain() -> None:
    tasks = (task(0, NEW), task(1, NEW), task(2, status="STOPPED"))
    p = plan(desired(2, was_steady=False), Observed(tasks), NOW)
    assert p.completed == NEW
    assert p.retire == [OLD]
    assert p.steady
    assert p.events == ["(service web) has reached a steady state."]


def test_a_stopped_task_is_replaced_and_counted_as_failed() -> None:
    tasks = (task(0), task(1, status="STOPPED", desired_status="STOPPED", failed=True))
    p = plan(desired(2, rolling=False), Observed(tasks), NOW)
    assert started(p) == 1
    assert p.counts[OLD].failed == 1


def test_unhealthy_task_replaced_after_grace_period() -> None:
    sick = task(1, has_health_check=True, health="UNHEALTHY", started_at=NOW - 10)
    tasks = (task(0, has_health_check=True, health="HEALTHY"), sick)
    in_grace = plan(desired(2, rolling=False, grace_period=30), Observed(tasks), NOW)
    assert in_grace.stop == []
    after = plan(desired(2, rolling=False, grace_period=5), Observed(tasks), NOW)
    assert [(s.task_arn, s.reason, s.failure) for s in after.stop] == [
        (sick.arn, REASON_CONTAINER_HEALTH, True)
    ]


def test_circuit_breaker_trips_at_the_threshold() -> None:
    failures = tuple(
        task(i, NEW, status="STOPPED", desired_status="STOPPED", failed=True) for i in range(3)
    )
    tasks = (task(0), task(1), *failures)
    d = desired(2, circuit_breaker=True, rollback=True, can_roll_back=True)
    p = plan(d, Observed(tasks), NOW)
    assert p.tripped == NEW
    assert p.start == []
    below = plan(d, Observed(tasks[:-1]), NOW)
    assert below.tripped is None


def test_failing_tasks_are_throttled() -> None:
    failures = tuple(
        task(i, NEW, status="STOPPED", desired_status="STOPPED", failed=True, stopped_at=NOW - 1)
        for i in range(4)
    )
    p = plan(desired(2), Observed((task(0), task(1), *failures)), NOW)
    assert p.start == []
    assert "(service web) is unable to consistently start tasks successfully." in p.events


def test_scale_in_skips_protected_tasks() -> None:
    tasks = (task(0), task(1, protected_until=NOW + 60), task(2))
    p = plan(desired(1, rolling=False), Observed(tasks), NOW)
    assert "task-1-1" not in {s.task_arn for s in p.stop}
    assert len(p.stop) == 2


def test_draining_instance_tasks_are_replaced_within_limits() -> None:
    other = "arn:aws:ecs:us-east-1:1:container-instance/default/b"
    hosts = (HostView(HOST, "DRAINING"), HostView(other))
    tasks = (task(0), task(1))
    p = plan(desired(2, 50, 200, rolling=False), Observed(tasks, hosts), NOW)
    assert started(p) == 2
    assert [s.reason for s in p.stop] == [REASON_DRAINING]  # min 50%: one may go at once


def test_daemon_one_task_per_active_instance() -> None:
    a, b, c = (f"arn:aws:ecs:us-east-1:1:container-instance/default/{x}" for x in "abc")
    hosts = (HostView(a), HostView(b), HostView(c, "DRAINING"))
    tasks = (task(0, OLD, host_arn=a), task(1, OLD, host_arn=c))
    d = Desired(name="d", desired_count=2, deployments=(DeploymentView(OLD, True, "COMPLETED"),),
                min_percent=0, max_percent=100, daemon=True)  # fmt: skip
    p = plan(d, Observed(tasks, hosts), NOW)
    assert [(s.host_arn, s.count) for s in p.start] == [(b, 1)]
    assert [s.task_arn for s in p.stop] == ["task-1-1"]


def test_load_balanced_tasks_drain_before_they_stop() -> None:
    lb = {"load_balanced": True}
    tasks = (task(0, target_health="healthy"), task(0, NEW, target_health="healthy"))
    p = plan(desired(1, **lb), Observed(tasks), NOW)
    assert p.deregister == ["task-1-0"] and p.stop == []
    draining = (task(0, target_health="draining", draining_lb=True), tasks[1])
    assert plan(desired(1, **lb), Observed(draining), NOW).stop == []
    drained = (task(0, target_health="unused", draining_lb=True), tasks[1])
    assert [s.task_arn for s in plan(desired(1, **lb), Observed(drained), NOW).stop] == ["task-1-0"]


def test_load_balanced_tasks_are_healthy_only_when_their_targets_are() -> None:
    tasks = (task(0, target_health="healthy"), task(0, NEW, target_health="initial"))
    p = plan(desired(1, **{"load_balanced": True}), Observed(tasks), NOW)
    assert p.stop == [] and p.deregister == []
    unregistered = (task(0, NEW, target_health="unused"),)
    assert plan(desired(1, load_balanced=True), Observed(unregistered), NOW).register == [
        "task-2-0"
    ]


def test_a_target_deregistered_by_someone_else_is_not_registered_again() -> None:
    # An Auto Scaling group taking its instance out deregisters the task's target: ECS
    # registered it once and leaves it out.
    gone = (task(0, NEW, target_health="unused", lb_registered=True),)
    assert plan(desired(1, load_balanced=True), Observed(gone), NOW).register == []


def test_a_draining_instance_keeps_its_healthy_task_until_the_replacement_is_healthy() -> None:
    other = "arn:aws:ecs:us-east-1:1:container-instance/default/b"
    hosts = (HostView(HOST, "DRAINING"), HostView(other))
    lb = {"load_balanced": True}
    old = task(0, OLD, target_health="healthy")
    p = plan(desired(1, 100, 200, rolling=False, **lb), Observed((old,), hosts), NOW)
    assert started(p) == 1 and p.deregister == [] and p.stop == []
    coming = task(1, OLD, host_arn=other, target_health="initial")
    p = plan(desired(1, 100, 200, rolling=False, **lb), Observed((old, coming), hosts), NOW)
    assert p.deregister == [] and p.stop == []
    ready = task(1, OLD, host_arn=other, target_health="healthy")
    p = plan(desired(1, 100, 200, rolling=False, **lb), Observed((old, ready), hosts), NOW)
    assert p.deregister == [old.arn] and p.stop == []  # drains first, then stops
    drained = task(0, OLD, target_health="unused", draining_lb=True)
    p = plan(desired(1, 100, 200, rolling=False, **lb), Observed((drained, ready), hosts), NOW)
    assert [(s.task_arn, s.reason) for s in p.stop] == [(old.arn, REASON_DRAINING)]
