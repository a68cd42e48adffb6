"""Letting go of finished ECS records: the pure plan as a table, then the controller on a
manual clock against the real domains and a SQLite file (gone after a reload too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.controllers.retention import RetentionController, taskdefs_in_use
from dockyard.controllers.retention_plan import (
    HOUR,
    Finished,
    Host,
    Observed,
    Policy,
    RetentionPlan,
    plan,
)
from dockyard.core.clock import ManualClock
from dockyard.services.ecs.service import Ecs
from tests.unit.services.ecs.tasks_harness import (
    Client,
    FakeAgent,
    make_ecs,
    make_link,
    registration,
    run,
)

NOW = 1_700_100_000.0


def host(since: float | None = NOW - HOUR, tasks: int = 0, contact: float | None = None) -> Host:
    return Host("i", since, tasks, contact)


CASES: list[tuple[str, Observed, RetentionPlan]] = [
    ("nothing", Observed(), RetentionPlan()),
    (
        "a task stopped an hour ago goes, one stopped just under an hour ago stays",
        Observed(stopped_tasks=[Finished("old", NOW - HOUR), Finished("new", NOW - HOUR + 1)]),
        RetentionPlan(tasks=("old",)),
    ),
    (
        "a record without a time is kept",
        Observed(stopped_tasks=[Finished("t", None)], inactive_services=[Finished("s", None)]),
        RetentionPlan(),
    ),
    (
        "an INACTIVE service goes an hour after",
        Observed(inactive_services=[Finished("s", NOW - 2 * HOUR), Finished("y", NOW - 60)]),
        RetentionPlan(services=("s",)),
    ),
    ("a deregistered instance goes an hour after", Observed(deregistered_instances=[host()]),
     RetentionPlan(instances=("i",))),
    ("... not while tasks are still placed there",
     Observed(deregistered_instances=[host(tasks=1)]), RetentionPlan()),
    ("... not while its agent still polls",
     Observed(deregistered_instances=[host(contact=NOW - 5)]), RetentionPlan()),
    ("... an hour after its agent's last call",
     Observed(deregistered_instances=[host(since=NOW - 9 * HOUR, contact=NOW - HOUR)]),
     RetentionPlan(instances=("i",))),
    (
        "a DELETE_IN_PROGRESS revision goes once unused, and not before an hour",
        Observed(
            deleting_taskdefs=[
                Finished("td:1", NOW - HOUR),
                Finished("td:2", NOW - HOUR),
                Finished("td:3", NOW - 10),
            ],
            taskdefs_in_use=frozenset({"td:2"}),
        ),
        RetentionPlan(taskdefs=("td:1",)),
    ),
    (
        "oldest first",
        Observed(stopped_tasks=[Finished("b", NOW - 2 * HOUR), Finished("a", NOW - 3 * HOUR)]),
        RetentionPlan(tasks=("a", "b")),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("observed", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(observed: Observed, expected: RetentionPlan) -> None:
    assert plan(observed, NOW) == expected


def test_plan_takes_a_batch_at_a_time() -> None:
    observed = Observed(
        stopped_tasks=[Finished(f"t{i}", NOW - HOUR - i) for i in range(3)],
        inactive_services=[Finished("s", NOW - HOUR)],
    )
    first = plan(observed, NOW, Policy(batch=2))
    assert first == RetentionPlan(tasks=("t2", "t1"), more=True)
    assert plan(observed, NOW, Policy(batch=4)) == RetentionPlan(
        tasks=("t2", "t1", "t0"), services=("s",)
    )


def test_plan_follows_the_policy() -> None:
    observed = Observed(stopped_tasks=[Finished("t", NOW - 60)])
    assert plan(observed, NOW, Policy(stopped_task=60)).tasks == ("t",)
    assert plan(observed, NOW, Policy(stopped_task=61)).tasks == ()


# -- the controller, on the real domains ---------------------------------------------------


def started_task(ecs: Ecs, client: Client, agent: FakeAgent, family: str = "web") -> str:
    arn = str(client.run_task(family)["tasks"][0]["taskArn"])
    run(agent.step())
    return arn


def setup(path: Path, clock: ManualClock) -> tuple[Ecs, Client, FakeAgent]:
    ecs = make_ecs(str(path), clock=clock)
    link = make_link(ecs)
    agent = FakeAgent(link, run(link.register(registration())))
    return ecs, Client(ecs), agent


def test_a_stopped_task_is_let_go_an_hour_after_it_stopped(tmp_path: Path) -> None:
    clock = ManualClock()
    ecs, client, agent = setup(tmp_path / "s.db", clock)
    client.taskdef()
    keep = started_task(ecs, client, agent)
    gone = started_task(ecs, client, agent)
    client("StopTask", task=gone)
    run(agent.step())
    assert client.describe(gone)["lastStatus"] == "STOPPED"
    retention = RetentionController(ecs, clock)

    clock.advance(HOUR - 1)
    assert retention.sweep().tasks == ()
    stopped = client("ListTasks", desiredStatus="STOPPED")["taskArns"]
    assert stopped == [gone]

    clock.advance(1)
    assert retention.sweep().tasks == (gone,)
    out = client("DescribeTasks", tasks=[gone, keep])
    assert out["failures"] == [{"arn": gone, "reason": "MISSING"}]
    assert [t["taskArn"] for t in out["tasks"]] == [keep]
    assert client("ListTasks", desiredStatus="STOPPED")["taskArns"] == []
    assert client("ListTasks")["taskArns"] == [keep]

    again = make_ecs(str(tmp_path / "s.db"), clock=clock)  # a restarted server
    assert gone not in again.tasks.by_arn and keep in again.tasks.by_arn


def test_running_tasks_are_never_let_go(tmp_path: Path) -> None:
    clock = ManualClock()
    ecs, client, agent = setup(tmp_path / "s.db", clock)
    client.taskdef()
    arn = started_task(ecs, client, agent)
    clock.advance(100 * HOUR)
    assert RetentionController(ecs, clock).sweep() == RetentionPlan()
    assert client.describe(arn)["lastStatus"] == "RUNNING"
    assert ecs.tasks.forget(arn) is False


def test_a_deleted_service_is_let_go_an_hour_after_it_became_inactive(tmp_path: Path) -> None:
    clock = ManualClock()
    ecs, client, _ = setup(tmp_path / "s.db", clock)
    client.taskdef()
    client("CreateService", serviceName="api", taskDefinition="web", desiredCount=0)
    client("DeleteService", service="api")
    service = next(iter(ecs.services.by_arn.values()))
    service.status = "INACTIVE"  # what the service controller does once no task is left
    ecs.services.save(service, notify=False)
    assert service.inactive_at == clock.now()
    retention = RetentionController(ecs, clock)

    clock.advance(HOUR - 1)
    retention.sweep()
    assert client("DescribeServices", services=["api"])["services"][0]["status"] == "INACTIVE"
    clock.advance(1)
    assert retention.sweep().services == (service.arn,)
    out = client("DescribeServices", services=["api"])
    assert out == {"services": [], "failures": [{"arn": service.arn, "reason": "MISSING"}]}
    assert make_ecs(str(tmp_path / "s.db"), clock=clock).services.by_arn == {}
    # The name is free again.
    client("CreateService", serviceName="api", taskDefinition="web", desiredCount=0)


def test_a_deleted_revision_goes_once_nothing_uses_it(tmp_path: Path) -> None:
    clock = ManualClock()
    ecs, client, agent = setup(tmp_path / "s.db", clock)
    client.taskdef()
    client.taskdef()  # web:2
    task = started_task(ecs, client, agent, "web:1")
    client("DeregisterTaskDefinition", taskDefinition="web:1")
    client("DeleteTaskDefinitions", taskDefinitions=["web:1"])
    arn = client("DescribeTaskDefinition", taskDefinition="web:1")["taskDefinition"][
        "taskDefinitionArn"
    ]
    assert arn in taskdefs_in_use(ecs)
    retention = RetentionController(ecs, clock)

    clock.advance(2 * HOUR)
    assert retention.sweep().taskdefs == ()  # its task still runs
    status = client("DescribeTaskDefinition", taskDefinition="web:1")["taskDefinition"]["status"]
    assert status == "DELETE_IN_PROGRESS"

    client("StopTask", task=task)
    run(agent.step())
    assert retention.sweep().taskdefs == (arn,)
    with pytest.raises(Exception, match="Unable to describe task definition"):
        client("DescribeTaskDefinition", taskDefinition="web:1")
    assert client("ListTaskDefinitionFamilies")["families"] == ["web"]
    # Revision numbers keep counting after the deletion, also after a restart.
    again = make_ecs(str(tmp_path / "s.db"), clock=clock)
    assert arn not in again.taskdefs.by_arn
    revision = Client(again).taskdef()
    assert revision.endswith(":3")


def test_a_service_keeps_its_deleted_revision(tmp_path: Path) -> None:
    clock = ManualClock()
    ecs, client, _ = setup(tmp_path / "s.db", clock)
    td = client.taskdef()
    client("CreateService", serviceName="api", taskDefinition="web", desiredCount=0)
    client("DeregisterTaskDefinition", taskDefinition="web:1")
    client("DeleteTaskDefinitions", taskDefinitions=["web:1"])
    clock.advance(2 * HOUR)
    assert RetentionController(ecs, clock).sweep().taskdefs == ()
    assert td in ecs.taskdefs.by_arn


def test_a_deregistered_instance_goes_once_its_agent_is_quiet(tmp_path: Path) -> None:
    clock = ManualClock()
    ecs, client, agent = setup(tmp_path / "s.db", clock)
    instance = agent.instance_arn
    client("DeregisterContainerInstance", containerInstance=instance)
    contact: dict[str, float] = {}
    retention = RetentionController(ecs, clock, contact.get)

    clock.advance(HOUR - 10)
    contact[instance] = clock.now()  # it polled
    clock.advance(10)
    assert retention.sweep().instances == ()
    clock.advance(HOUR)
    assert retention.sweep().instances == (instance,)
    out = client("DescribeContainerInstances", containerInstances=[instance])
    assert out["failures"] == [{"arn": instance, "reason": "MISSING"}]
    assert make_ecs(str(tmp_path / "s.db"), clock=clock).instances.by_arn == {}


def test_a_full_batch_comes_back_soon(tmp_path: Path) -> None:
    clock = ManualClock()
    ecs, client, _ = setup(tmp_path / "s.db", clock)
    client.taskdef()
    arns = [str(t["taskArn"]) for t in client.run_task(count=3)["tasks"]]
    for arn in arns:  # never handed to the agent: STOPPED at once
        client("StopTask", task=arn)
    clock.advance(HOUR)
    retention = RetentionController(ecs, clock, policy=Policy(batch=2))
    assert run(retention.reconcile("ecs")) == 1.0
    assert run(retention.reconcile("ecs")) == 60.0
    assert not set(arns) & set(ecs.tasks.by_arn)
