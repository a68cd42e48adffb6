"""Property tests of the pure plans: ECS's rolling update bounds hold for any service and any
observed state the scheduler can meet, a rolling deployment always converges, and CodeDeploy's
traffic routing only ever moves traffic towards green."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dockyard.controllers.codedeploy_plan import traffic_steps, traffic_weight
from dockyard.controllers.service_plan import (
    RUNNING,
    DeploymentView,
    Desired,
    Observed,
    Plan,
    TaskView,
    is_healthy,
    max_tasks,
    min_healthy,
    plan,
)

OLD, NEW = "ecs-svc/old", "ecs-svc/new"
HOSTS = ("host-a", "host-b")
STEP = 5.0  # seconds of service time between two looks of the scheduler


@st.composite
def services(draw: st.DrawFn) -> Desired:
    count = draw(st.integers(0, 12))
    low = draw(st.integers(0, 100))
    high = draw(st.integers(100, 200))
    health_checked = draw(st.booleans())
    return Desired(
        name="web",
        desired_count=count,
        deployments=(DeploymentView(NEW, True), DeploymentView(OLD, False, "COMPLETED")),
        min_percent=low,
        max_percent=high,
        settle=0.0 if health_checked else 40.0,
    )


@st.composite
def task_views(draw: st.DrawFn, now: float) -> TaskView:
    status = draw(st.sampled_from(["PENDING", "RUNNING", "RUNNING", "RUNNING", "STOPPED"]))
    started = now - draw(st.floats(0, 120)) if status == RUNNING else None
    health_checked = draw(st.booleans())
    return TaskView(
        arn=f"task-{draw(st.uuids()).hex}",
        deployment_id=draw(st.sampled_from([OLD, NEW])),
        host_arn=draw(st.sampled_from(HOSTS)),
        last_status=status,
        desired_status="STOPPED" if status == "STOPPED" else RUNNING,
        has_health_check=health_checked,
        health=draw(st.sampled_from(["HEALTHY", "UNKNOWN"])) if health_checked else "UNKNOWN",
        started_at=started,
        created_at=now - 200,
    )


def existing(tasks: tuple[TaskView, ...]) -> int:
    return len([t for t in tasks if not t.stopped])


def started(p: Plan) -> int:
    return sum(s.count for s in p.start)


def leaving(p: Plan) -> set[str]:
    return {s.task_arn for s in p.stop} | set(p.deregister)


def check_bounds(d: Desired, tasks: tuple[TaskView, ...], p: Plan, now: float) -> None:
    """maximumPercent: a start never takes the tasks that exist (STOPPING ones count) above the
    ceiling; minimumHealthyPercent: a plan never takes the healthy tasks below the floor (or
    below what there was, when there were fewer)."""
    ceiling = max_tasks(d.desired_count, d.max_percent)
    if started(p):
        assert existing(tasks) + started(p) <= ceiling
    healthy = [t for t in tasks if is_healthy(t, d, now)]
    kept = [t for t in healthy if t.arn not in leaving(p)]
    floor = min_healthy(d.desired_count, d.min_percent)
    assert len(kept) >= min(floor, len(healthy))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_one_plan_never_breaks_the_deployment_bounds(data: st.DataObject) -> None:
    now = 10_000.0
    d = data.draw(services())
    tasks = tuple(data.draw(st.lists(task_views(now), max_size=16)))
    # Scale-in (more PRIMARY tasks than wanted) is not bound by minimumHealthyPercent in ECS.
    primary = [t for t in tasks if t.live and t.deployment_id == NEW]
    assume(len(primary) <= d.desired_count)
    check_bounds(d, tasks, plan(d, Observed(tasks), now), now)


class Simulation:
    """The world the scheduler acts on: a start is PENDING for one step, then RUNNING (and
    healthy once it has settled); a stop leaves a task STOPPING for one step, then STOPPED."""

    def __init__(self, d: Desired, old: int) -> None:
        self.d = d
        self.now = 10_000.0
        self.serial = 0
        self.tasks: list[TaskView] = [
            self.new_task(OLD, RUNNING, started_at=self.now - 600, host=i % len(HOSTS))
            for i in range(old)
        ]

    def new_task(self, deployment: str, status: str, started_at: float | None = None,
                 host: int = 0) -> TaskView:  # fmt: skip
        self.serial += 1
        return TaskView(
            arn=f"task-{self.serial}", deployment_id=deployment, host_arn=HOSTS[host],
            last_status=status, started_at=started_at, created_at=self.now,
            has_health_check=self.d.settle == 0.0,
            health="HEALTHY" if started_at is not None else "UNKNOWN",
        )  # fmt: skip

    def step(self) -> Plan:
        tasks = tuple(self.tasks)
        p = plan(self.d, Observed(tasks), self.now)
        check_bounds(self.d, tasks, p, self.now)
        nxt: list[TaskView] = []
        for t in self.tasks:
            if t.stopped:
                continue
            if t.desired_status != RUNNING:
                t = replace(t, last_status="STOPPED")
            elif t.last_status == "PENDING":
                t = replace(t, last_status=RUNNING, started_at=self.now, health="HEALTHY")
            nxt.append(t)
        going = leaving(p)
        nxt = [replace(t, desired_status="STOPPED") if t.arn in going else t for t in nxt]
        for s in p.start:
            nxt += [self.new_task(s.deployment_id, "PENDING", host=self.serial % 2)
                    for _ in range(s.count)]  # fmt: skip
        self.tasks = nxt
        self.now += STEP
        return p


@settings(max_examples=200, deadline=None)
@given(services(), st.integers(0, 14))
def test_a_rolling_deployment_always_converges_within_its_bounds(d: Desired, old: int) -> None:
    """From any number of old tasks, a deployment whose bounds leave room to move (a start
    above the floor, or a stop above the ceiling) ends with exactly the desired count of new,
    healthy tasks and nothing of the old deployment."""
    floor = min_healthy(d.desired_count, d.min_percent)
    ceiling = max_tasks(d.desired_count, d.max_percent)
    assume(d.desired_count == 0 or ceiling > floor or floor == 0)
    sim = Simulation(d, old)
    for _ in range(400):
        p = sim.step()
        if p.completed == NEW:
            break
    else:
        raise AssertionError(
            f"no convergence: {[(t.deployment_id, t.last_status) for t in sim.tasks]}"
        )
    live = [t for t in sim.tasks if not t.stopped and t.desired_status == RUNNING]
    assert len(live) == d.desired_count
    assert all(t.deployment_id == NEW for t in live)


traffic_configs = st.one_of(
    st.just({"type": "AllAtOnce"}),
    st.builds(
        lambda p, i: {
            "type": "TimeBasedCanary",
            "timeBasedCanary": {"canaryPercentage": p, "canaryInterval": i},
        },
        st.integers(1, 99),
        st.integers(1, 2880),
    ),
    st.builds(
        lambda p, i: {
            "type": "TimeBasedLinear",
            "timeBasedLinear": {"linearPercentage": p, "linearInterval": i},
        },
        st.integers(1, 99),
        st.integers(1, 2880),
    ),
)


@settings(max_examples=300, deadline=None)
@given(traffic_configs, st.floats(0, 400_000), st.floats(0, 400_000))
def test_traffic_only_moves_towards_green_and_ends_at_100(
    routing: dict[str, object], a: float, b: float
) -> None:
    early, late = sorted((a, b))
    since = 1_700_000_000.0
    w_early, next_early = traffic_weight(routing, since, since + early)
    w_late, _ = traffic_weight(routing, since, since + late)
    assert 0 < w_early <= w_late <= 100
    if next_early is None:
        assert w_early == 100
    else:
        assert next_early > since + early  # the next change is in the future
    steps = traffic_steps(routing)
    assert steps[0][0] == 0.0 and steps[-1][1] == 100
    assert [w for _, w in steps] == sorted({w for _, w in steps})  # strictly rising
