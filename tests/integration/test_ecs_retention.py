"""ECS lets finished records go, and so does Dockyard: a stopped task an hour after it
stopped, a deleted service an hour after it became INACTIVE, a DELETE_IN_PROGRESS task
definition revision once nothing uses it. Service time runs 600 times faster here (an hour
takes 6 s), and what is gone stays gone after a restart on the same data dir."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess

SCALE = 600
HOUR_WALL = 3600 / SCALE  # seconds of wall time in an hour of service time
# At this scale the default 60 s disconnect grace is a tenth of a wall second: a loaded host's
# restart takes longer than that for the embedded agent to reconnect, and its tasks would be
# stopped as lost. A grace of ten service hours (a wall minute) keeps that out of these tests.
ARGS = ("--runtime", "process", "--time-scale", str(SCALE), "--agent-grace", "36000")

StartServer = Callable[..., DockyardProcess]


def register(ecs: Any, family: str) -> str:
    arn: str = ecs.register_task_definition(
        family=family,
        networkMode="host",
        containerDefinitions=[
            {
                "name": "app",
                "image": "process:/tmp",
                "essential": True,
                "memory": 32,
                "entryPoint": ["sh", "-c"],
                "command": ["sleep 3600"],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {timeout} s")
        time.sleep(0.1)


def task_status(ecs: Any, arn: str) -> str:
    out = ecs.describe_tasks(tasks=[arn])
    if out["failures"]:
        assert out["failures"] == [{"arn": arn, "reason": "MISSING"}]
        return "MISSING"
    status: str = out["tasks"][0]["lastStatus"]
    return status


def service_status(ecs: Any, name: str) -> str:
    out = ecs.describe_services(services=[name])
    if out["failures"]:
        assert [f["reason"] for f in out["failures"]] == ["MISSING"]
        return "MISSING"
    status: str = out["services"][0]["status"]
    return status


def taskdef_status(ecs: Any, ref: str) -> str:
    try:
        status: str = ecs.describe_task_definition(taskDefinition=ref)["taskDefinition"]["status"]
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ClientException"
        assert "Unable to describe task definition" in exc.response["Error"]["Message"]
        return "GONE"
    return status


def deleting(ecs: Any, family: str) -> list[str]:
    out = ecs.list_task_definitions(familyPrefix=family, status="DELETE_IN_PROGRESS")
    arns: list[str] = out["taskDefinitionArns"]
    return arns


def restarted(server: DockyardProcess, start: StartServer) -> Any:
    server.stop()
    again = start(*ARGS, data_dir=server.data_dir)
    return make_client("ecs", again.endpoint)


def test_a_stopped_task_is_missing_an_hour_after_it_stopped(fresh_server: StartServer) -> None:
    server = fresh_server(*ARGS)
    ecs = make_client("ecs", server.endpoint)
    register(ecs, "retained")
    keep = ecs.run_task(taskDefinition="retained")["tasks"][0]["taskArn"]
    gone = ecs.run_task(taskDefinition="retained")["tasks"][0]["taskArn"]
    until(lambda: task_status(ecs, gone) == "RUNNING", 30, "task RUNNING")

    stopped_at = time.monotonic()
    ecs.stop_task(task=gone, reason="done with it")
    until(lambda: task_status(ecs, gone) == "STOPPED", 30, "task STOPPED")
    assert ecs.list_tasks(desiredStatus="STOPPED")["taskArns"] == [gone]

    until(lambda: task_status(ecs, gone) == "MISSING", 4 * HOUR_WALL, "stopped task MISSING")
    assert time.monotonic() - stopped_at >= 0.9 * HOUR_WALL  # not before the hour
    assert ecs.list_tasks(desiredStatus="STOPPED")["taskArns"] == []
    out = ecs.describe_tasks(tasks=[gone, keep])
    assert out["failures"] == [{"arn": gone, "reason": "MISSING"}]
    assert [(t["taskArn"], t["lastStatus"]) for t in out["tasks"]] == [(keep, "RUNNING")]

    ecs = restarted(server, fresh_server)
    assert task_status(ecs, gone) == "MISSING"
    # the running one is adopted, still there, and nothing is listed stopped
    listed = ecs.list_tasks()["taskArns"], ecs.list_tasks(desiredStatus="STOPPED")["taskArns"]
    assert listed == ([keep], []), ecs.describe_tasks(tasks=[keep])["tasks"]


def test_a_deleted_service_and_a_deleted_revision_go(fresh_server: StartServer) -> None:
    server = fresh_server(*ARGS)
    ecs = make_client("ecs", server.endpoint)
    name = f"gone-{uuid.uuid4().hex[:6]}"
    service_td = register(ecs, name)
    ecs.create_service(serviceName=name, taskDefinition=service_td, desiredCount=1)
    family = f"deleted-{uuid.uuid4().hex[:6]}"
    first = register(ecs, family)
    register(ecs, family)  # revision 2 stays ACTIVE
    task = ecs.run_task(taskDefinition=first)["tasks"][0]["taskArn"]
    until(lambda: task_status(ecs, task) == "RUNNING", 30, "task RUNNING")
    until(
        lambda: ecs.describe_services(services=[name])["services"][0]["runningCount"] == 1,
        30,
        "service running",
    )

    ecs.deregister_task_definition(taskDefinition=first)
    deleted = ecs.delete_task_definitions(taskDefinitions=[first])["taskDefinitions"]
    assert [td["status"] for td in deleted] == ["DELETE_IN_PROGRESS"]
    deleted_at = time.monotonic()
    ecs.delete_service(service=name, force=True)
    until(lambda: service_status(ecs, name) == "INACTIVE", 30, "service INACTIVE")
    assert name not in str(ecs.list_services()["serviceArns"])

    until(lambda: service_status(ecs, name) == "MISSING", 4 * HOUR_WALL, "service MISSING")
    assert time.monotonic() - deleted_at >= 0.9 * HOUR_WALL
    # More than an hour on, the revision a running task uses is still being deleted.
    assert taskdef_status(ecs, first) == "DELETE_IN_PROGRESS"
    assert deleting(ecs, family) == [first]
    ecs.stop_task(task=task)
    until(lambda: taskdef_status(ecs, first) == "GONE", 30, "revision deleted")
    assert deleting(ecs, family) == []

    ecs = restarted(server, fresh_server)
    assert service_status(ecs, name) == "MISSING"
    assert taskdef_status(ecs, first) == "GONE"
    assert taskdef_status(ecs, f"{family}:2") == "ACTIVE"
    # The family keeps counting: the next revision is 3, not 1 or 2.
    assert register(ecs, family).endswith(f"{family}:3")
    # And the service name is free again.
    ecs.create_service(serviceName=name, taskDefinition=service_td, desiredCount=0)
    assert service_status(ecs, name) == "ACTIVE"
