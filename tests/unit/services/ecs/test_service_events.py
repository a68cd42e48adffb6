"""`ECS Service Action` and `ECS Deployment State Change` events in the ECS event log (what
the event bus delivers), as the service controller moves services along."""

from __future__ import annotations

from typing import Any

from dockyard.core.taskspec import DesiredStatus
from tests.unit.services.ecs.tasks_harness import FakeAgent, report
from tests.unit.services.ecs.test_services import World, create


class BrokenImageAgent(FakeAgent):
    """Tasks of the `broken` family never start; the others run."""

    async def step(self, wait: float = 0) -> None:
        assignments = await self.link.assignments(self.instance_arn, wait)
        failed = [
            report(a.spec.task_arn, "STOPPED", containers={"app": "STOPPED"}, exit_code=1,
                   stop_code="TaskFailedToStart", stopped_reason="CannotPullContainerError")
            for a in assignments
            if a.spec.family == "broken" and a.desired_status == DesiredStatus.RUNNING
        ]  # fmt: skip
        if failed:
            await self.link.report(self.instance_arn, failed)
        await super().step(wait)


def events_of(w: World, detail_type: str) -> list[dict[str, Any]]:
    return [e for e in w.ecs.events if e["detail-type"] == detail_type]


def deployment_events(w: World) -> list[tuple[str, str, str, str]]:
    return [
        (e["detail"]["eventType"], e["detail"]["eventName"], e["detail"]["deploymentId"],
         e["detail"]["reason"])
        for e in events_of(w, "ECS Deployment State Change")
    ]  # fmt: skip


def test_deployment_completes_and_the_service_reaches_a_steady_state() -> None:
    w = World()
    service = create(w, 2)
    first = service["deployments"][0]["id"]
    w.step(2)
    w.clock.advance(41)
    w.step(1)
    assert deployment_events(w) == [
        ("INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", first, f"ECS deployment {first} in progress."),
        ("INFO", "SERVICE_DEPLOYMENT_COMPLETED", first, f"ECS deployment {first} completed."),
    ]
    event = events_of(w, "ECS Deployment State Change")[-1]
    assert event["source"] == "aws.ecs"
    assert event["version"] == "0"
    assert event["resources"] == [service["serviceArn"]]
    assert (event["account"], event["region"]) == tuple(service["serviceArn"].split(":")[4:2:-1])
    assert event["time"].endswith("Z") and event["detail"]["updatedAt"].endswith("Z")
    assert w.service()["deployments"][0]["rolloutStateReason"] == (
        f"ECS deployment {first} completed."
    )

    actions = events_of(w, "ECS Service Action")
    assert [a["detail"]["eventName"] for a in actions] == ["SERVICE_STEADY_STATE"]
    steady = actions[0]
    assert steady["resources"] == [service["serviceArn"]]
    assert steady["detail"]["eventType"] == "INFO"
    assert steady["detail"]["clusterArn"] == service["clusterArn"]
    assert steady["detail"]["createdAt"].endswith("Z")
    w.step(2)  # still steady: reported once
    assert len(events_of(w, "ECS Service Action")) == 1

    # Application Auto Scaling changes the desired count: the scheduler says so.
    w.ecs.services.set_desired_count(service["serviceArn"], 3)
    names = [a["detail"]["eventName"] for a in events_of(w, "ECS Service Action")]
    assert names[-1] == "SERVICE_DESIRED_COUNT_UPDATED"


def test_circuit_breaker_fails_the_deployment_and_rolls_back() -> None:
    w = World()
    agent = w.agents[0]
    w.agents[0] = BrokenImageAgent(agent.link, agent.instance_arn, ip=agent.ip)
    service = create(w, 1, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    })  # fmt: skip
    good = service["deployments"][0]["id"]
    w.step(2)
    w.clock.advance(41)
    w.step(1)
    assert deployment_events(w)[-1][1] == "SERVICE_DEPLOYMENT_COMPLETED"

    broken = w.client.taskdef("broken")
    bad = w.client("UpdateService", service="web", taskDefinition=broken)["service"]
    bad_id = bad["deployments"][0]["id"]
    for _ in range(40):
        w.step(1, advance=30)
        if any(name == "SERVICE_DEPLOYMENT_FAILED" for _, name, _, _ in deployment_events(w)):
            break
    w.step(3, advance=30)
    w.clock.advance(41)
    w.step(2)

    events = deployment_events(w)[2:]
    rollback_id = w.service()["deployments"][0]["id"]
    assert rollback_id not in (good, bad_id)
    assert events[:3] == [
        ("INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", bad_id, f"ECS deployment {bad_id} in progress."),
        ("ERROR", "SERVICE_DEPLOYMENT_FAILED", bad_id,
         "ECS deployment circuit breaker: tasks failed to start."),
        ("INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", rollback_id,
         f"ECS deployment circuit breaker: rolling back to deploymentId {good}."),
    ]  # fmt: skip
    assert events[3] == (
        "INFO", "SERVICE_DEPLOYMENT_COMPLETED", rollback_id,
        f"ECS deployment {rollback_id} completed.",
    )  # fmt: skip


def test_tasks_that_keep_failing_to_start_impair_the_service() -> None:
    w = World()
    agent = w.agents[0]
    w.agents[0] = BrokenImageAgent(agent.link, agent.instance_arn, ip=agent.ip)
    create(w, 1, taskDefinition=w.client.taskdef("broken"))
    w.step(10, advance=1)
    impaired = [
        a for a in events_of(w, "ECS Service Action")
        if a["detail"]["eventName"] == "SERVICE_TASK_START_IMPAIRED"
    ]  # fmt: skip
    assert impaired  # each time the scheduler holds back again after failed starts
    assert {a["detail"]["eventType"] for a in impaired} == {"WARN"}
    messages = [e["message"] for e in w.service()["events"]]
    assert "(service web) is unable to consistently start tasks successfully." in messages


def test_placement_failure_is_a_service_action() -> None:
    w = World()
    big = w.client.taskdef(
        "big", containerDefinitions=[{"name": "app", "image": "x", "memory": 999_999}]
    )
    service = create(w, 1, taskDefinition=big)
    w.step(3)
    failures = [
        a for a in events_of(w, "ECS Service Action")
        if a["detail"]["eventName"] == "SERVICE_TASK_PLACEMENT_FAILURE"
    ]  # fmt: skip
    assert len(failures) == 1  # the same failure again is not news
    detail = failures[0]["detail"]
    assert detail["eventType"] == "ERROR"
    assert detail["clusterArn"] == service["clusterArn"]
    assert detail["reasons"] == ["RESOURCE:MEMORY"]
