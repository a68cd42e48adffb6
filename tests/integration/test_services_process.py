"""ECS services that really run, through the process driver: rolling deployments watched
from outside every 100 ms, the circuit breaker, replacement of a killed task, and a server
killed in the middle of a deployment."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.conftest import aws_json, make_client
from tests.support.server import DockyardProcess

# Service time runs 10 times faster on these servers: ECS's 40 seconds before a task without
# health checks counts as healthy take 4 seconds.
SCALE = "10"
HEALTH = {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 1}


@pytest.fixture(scope="module")
def dockyard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    server = DockyardProcess(
        tmp_path_factory.mktemp("services") / "data", "--runtime", "process", "--time-scale", SCALE
    )
    server.start()
    yield server
    server.stop()


def taskdef(ecs: Any, family: str, script: str = "sleep 3600", health: bool = False) -> str:
    container: dict[str, Any] = {
        "name": "app",
        "image": "process:/tmp",
        "essential": True,
        "memory": 32,
        "entryPoint": ["sh", "-c"],
        "command": [script],
    }
    if health:
        container["healthCheck"] = HEALTH
    arn: str = ecs.register_task_definition(
        family=family, networkMode="host", containerDefinitions=[container]
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def describe(ecs: Any, name: str, cluster: str = "default") -> dict[str, Any]:
    service: dict[str, Any] = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    return service


def wait_service(
    ecs: Any,
    name: str,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 60.0,
    cluster: str = "default",
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        service = describe(ecs, name, cluster)
        if done(service):
            return service
        if time.monotonic() > deadline:
            brief = {k: service.get(k) for k in ("runningCount", "pendingCount", "deployments")}
            events = [e["message"] for e in service["events"][:10]]
            raise AssertionError(f"service {name} not there yet: {brief} {events}")
        time.sleep(0.1)


def steady_on(taskdef_arn: str, count: int) -> Callable[[dict[str, Any]], bool]:
    def check(service: dict[str, Any]) -> bool:
        deployments = service["deployments"]
        return (
            len(deployments) == 1
            and deployments[0]["taskDefinition"] == taskdef_arn
            and deployments[0]["rolloutState"] == "COMPLETED"
            and service["runningCount"] == count
        )

    return check


def service_tasks(ecs: Any, name: str, cluster: str = "default") -> list[dict[str, Any]]:
    """Every task of the service, described in one call (a consistent snapshot)."""
    arns: set[str] = set()
    for desired in ("RUNNING", "STOPPED"):
        arns |= set(
            ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus=desired)["taskArns"]
        )
    if not arns:
        return []
    tasks: list[dict[str, Any]] = []
    ordered = sorted(arns)
    for i in range(0, len(ordered), 100):
        tasks += ecs.describe_tasks(cluster=cluster, tasks=ordered[i : i + 100])["tasks"]
    return tasks


class Sampler(threading.Thread):
    """Samples a service's tasks every 100 ms: healthy (RUNNING, not unhealthy, still wanted)
    and not STOPPED, until stopped."""

    def __init__(self, endpoint: str, name: str) -> None:
        super().__init__(daemon=True)
        self.ecs = make_client("ecs", endpoint)
        self.name = name
        self.samples: list[tuple[int, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            tasks = service_tasks(self.ecs, self.name)
            healthy = [
                t
                for t in tasks
                if t["lastStatus"] == "RUNNING"
                and t["desiredStatus"] == "RUNNING"
                and t.get("healthStatus") != "UNHEALTHY"
            ]
            alive = [t for t in tasks if t["lastStatus"] != "STOPPED"]
            self.samples.append((len(healthy), len(alive)))
            self.done.wait(0.1)


@pytest.mark.parametrize(("low", "high"), [(50, 100), (100, 200)])
def test_rolling_deployment_keeps_within_min_and_max(
    dockyard: DockyardProcess, low: int, high: int
) -> None:
    ecs = make_client("ecs", dockyard.endpoint)
    family = f"roll-{low}-{uuid.uuid4().hex[:6]}"
    first, second = taskdef(ecs, family), taskdef(ecs, family, "sleep 3601")
    name = f"roll-{low}-{high}-{uuid.uuid4().hex[:6]}"
    created = ecs.create_service(
        serviceName=name,
        taskDefinition=first,
        desiredCount=4,
        deploymentConfiguration={"minimumHealthyPercent": low, "maximumPercent": high},
    )["service"]
    assert created["deploymentConfiguration"]["minimumHealthyPercent"] == low
    assert created["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    wait_service(ecs, name, steady_on(first, 4))

    sampler = Sampler(dockyard.endpoint, name)
    sampler.start()
    time.sleep(0.3)
    updated = ecs.update_service(service=name, taskDefinition=second)["service"]
    assert [d["status"] for d in updated["deployments"]] == ["PRIMARY", "ACTIVE"]
    service = wait_service(ecs, name, steady_on(second, 4))
    time.sleep(0.3)
    sampler.done.set()
    sampler.join()

    floor, ceiling = 4 * low // 100, 4 * high // 100
    assert len(sampler.samples) > 5
    assert min(h for h, _ in sampler.samples) >= floor, sampler.samples
    assert max(a for _, a in sampler.samples) <= ceiling, sampler.samples
    running = [t for t in service_tasks(ecs, name) if t["lastStatus"] == "RUNNING"]
    assert len(running) == 4
    assert {t["taskDefinitionArn"] for t in running} == {second}
    assert {t["group"] for t in running} == {f"service:{name}"}
    messages = [e["message"] for e in service["events"]]
    assert messages[0] == f"(service {name}) has reached a steady state."
    assert any(m.startswith(f"(service {name}) has started ") for m in messages)
    assert any(m.startswith(f"(service {name}) has stopped ") for m in messages)
    primary = service["deployments"][0]
    assert primary["rolloutStateReason"] == f"ECS deployment {primary['id']} completed."

    ecs.delete_service(service=name, force=True)
    wait_service(ecs, name, lambda s: s["status"] == "INACTIVE")
    assert ecs.list_tasks(serviceName=name)["taskArns"] == []


def test_circuit_breaker_rolls_back_a_revision_that_exits(dockyard: DockyardProcess) -> None:
    ecs = make_client("ecs", dockyard.endpoint)
    family = f"breaker-{uuid.uuid4().hex[:6]}"
    good, bad = taskdef(ecs, family), taskdef(ecs, family, "exit 1")
    name = f"breaker-{uuid.uuid4().hex[:6]}"
    ecs.create_service(
        serviceName=name,
        taskDefinition=good,
        desiredCount=2,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
        },
    )
    wait_service(ecs, name, steady_on(good, 2))
    ecs.update_service(service=name, taskDefinition=bad)
    service = wait_service(ecs, name, steady_on(good, 2), timeout=60)
    assert service["taskDefinition"] == good
    messages = [e["message"] for e in service["events"]]
    assert any(m.startswith(f"(service {name}) rolling back to deployment ") for m in messages)
    assert any("deployment failed: tasks failed to start." in m for m in messages)
    running = [t for t in service_tasks(ecs, name) if t["lastStatus"] == "RUNNING"]
    assert {t["taskDefinitionArn"] for t in running} == {good}

    # The service deployments API tells the story, through the AWS CLI.
    listed = aws_json(dockyard.endpoint, "ecs", "list-service-deployments", "--service", name)[
        "serviceDeployments"
    ]
    assert [d["status"] for d in listed] == ["SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "SUCCESSFUL"]
    described = ecs.describe_service_deployments(
        serviceDeploymentArns=[listed[1]["serviceDeploymentArn"]]
    )["serviceDeployments"][0]
    breaker = described["deploymentCircuitBreaker"]
    assert breaker["status"] == "TRIGGERED"
    assert breaker["failureCount"] >= breaker["threshold"] == 3
    assert described["rollback"]["serviceRevisionArn"] == listed[2]["targetServiceRevisionArn"]
    revision = ecs.describe_service_revisions(
        serviceRevisionArns=[described["targetServiceRevision"]["arn"]]
    )["serviceRevisions"][0]
    assert revision["taskDefinition"] == bad
    ecs.delete_service(service=name, force=True)


def test_a_killed_task_is_replaced(dockyard: DockyardProcess) -> None:
    ecs = make_client("ecs", dockyard.endpoint)
    first = taskdef(ecs, f"victim-{uuid.uuid4().hex[:6]}")
    name = f"victim-{uuid.uuid4().hex[:6]}"
    ecs.create_service(serviceName=name, taskDefinition=first, desiredCount=2)
    wait_service(ecs, name, steady_on(first, 2))
    tasks = [t for t in service_tasks(ecs, name) if t["lastStatus"] == "RUNNING"]
    victim = tasks[0]
    runtime_id = victim["containers"][0]["runtimeId"]
    pid_files = list(dockyard.data_dir.glob(f"agent/**/{runtime_id}/pid.json"))
    assert pid_files, f"no pid file for {runtime_id}"
    os.kill(json.loads(pid_files[0].read_text())["pid"], signal.SIGKILL)

    def replaced(service: dict[str, Any]) -> bool:
        # The service's counts are the scheduler's last look: wait for the one after the kill
        # (the failed task counted), not a count from before it.
        running = {t["taskArn"] for t in service_tasks(ecs, name) if t["lastStatus"] == "RUNNING"}
        return (
            len(running) == 2
            and victim["taskArn"] not in running
            and service["runningCount"] == 2
            and service["deployments"][0]["failedTasks"] == 1
        )

    wait_service(ecs, name, replaced, timeout=30)
    stopped = ecs.describe_tasks(tasks=[victim["taskArn"]])["tasks"][0]
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "EssentialContainerExited"
    ecs.delete_service(service=name, force=True)


def test_a_deployment_resumes_after_the_server_is_killed(
    fresh_server: Callable[..., DockyardProcess],
) -> None:
    server = fresh_server("--runtime", "process")
    ecs = make_client("ecs", server.endpoint)
    family = f"resume-{uuid.uuid4().hex[:6]}"
    first = taskdef(ecs, family, health=True)
    second = taskdef(ecs, family, "sleep 3601", health=True)
    name = "resume"
    ecs.create_service(
        serviceName=name,
        taskDefinition=first,
        desiredCount=2,
        deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 100},
    )
    wait_service(ecs, name, steady_on(first, 2), timeout=30)
    ecs.update_service(service=name, taskDefinition=second)
    # Mid-deployment: one old task stopped, one new task running, not yet healthy.
    wait_service(ecs, name, lambda s: s["deployments"][0]["runningCount"] >= 1)
    server.kill()

    again = fresh_server("--runtime", "process", data_dir=server.data_dir)
    ecs = make_client("ecs", again.endpoint)
    service = wait_service(ecs, name, steady_on(second, 2), timeout=60)
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    tasks = [t for t in service_tasks(ecs, name) if t["lastStatus"] == "RUNNING"]
    assert {t["taskDefinitionArn"] for t in tasks} == {second}
    assert {t["healthStatus"] for t in tasks} == {"HEALTHY"}
    ecs.delete_service(service=name, force=True)
    wait_service(ecs, name, lambda s: s["status"] == "INACTIVE", timeout=30)
