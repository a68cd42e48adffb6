"""Agents missing heartbeats: disconnected after the timeout, their tasks stopped after the
grace, on a manual clock."""

from __future__ import annotations

from dockyard.controllers.agent_health import AgentHealth, HostState, plan
from dockyard.core.clock import ManualClock
from tests.unit.services.ecs.tasks_harness import Client, make_ecs, make_link, registration, run


def host(**kw: object) -> HostState:
    base: dict[str, object] = dict(
        arn="i", connected=True, last_contact=100.0, disconnected_since=None, active_tasks=1
    )
    base.update(kw)
    return HostState(**base)  # type: ignore[arg-type]


def test_plan_disconnects_after_the_timeout_only() -> None:
    assert plan([host()], 130.0, 30.0, 60.0).disconnect == ()
    assert plan([host()], 130.5, 30.0, 60.0).disconnect == ("i",)
    assert plan([host(last_contact=None)], 0.0, 30.0, 60.0).disconnect == ("i",)


def test_plan_evicts_after_the_grace_when_tasks_remain() -> None:
    gone = host(connected=False, disconnected_since=200.0)
    assert plan([gone], 259.0, 30.0, 60.0).evict == ()
    assert plan([gone], 260.0, 30.0, 60.0).evict == ("i",)
    assert plan([host(connected=False, disconnected_since=200.0, active_tasks=0)],
                999.0, 30.0, 60.0).evict == ()  # fmt: skip


def test_a_silent_agent_is_disconnected_then_its_tasks_stop() -> None:
    clock = ManualClock()
    ecs = make_ecs(clock=clock)
    link = make_link(ecs, managed_capacity=False)
    arn = run(link.register(registration()))
    client = Client(ecs)
    client.taskdef()
    task_arn = client.run_task()["tasks"][0]["taskArn"]
    health = AgentHealth(ecs, clock, link.last_heartbeat.get, timeout=30.0, grace=60.0)

    clock.advance(29)
    health.check()
    assert client.instance(arn)["agentConnected"] is True
    clock.advance(2)
    assert health.check().disconnect == (arn,)
    assert client.instance(arn)["agentConnected"] is False
    clock.advance(59)
    health.check()
    assert client.describe(task_arn)["lastStatus"] != "STOPPED"
    clock.advance(1)
    assert health.check().evict == (arn,)
    task = client.describe(task_arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "TerminationNotice"
    assert "agent is disconnected" in task["stoppedReason"]
    # The agent comes back: connected again, and its assignments no longer hold the task.
    run(link.heartbeat(arn))
    assert client.instance(arn)["agentConnected"] is True
    assert run(link.assignments(arn, 0)) == []
