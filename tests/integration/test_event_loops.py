"""An EventBridge rule that reacts to ECS events by running ECS tasks: the loop it makes is
bounded by the cluster's capacity, never double-books an instance, and never crashes.

Every ECS event (`{"source": ["aws.ecs"]}`) runs two more tasks on the same cluster. Three
container instances are registered and kept connected by heartbeats on the agent protocol
(no agent runs their tasks, so tasks stay PENDING and hold what they reserve): one is too
small for the task's memory, the two others can each hold one task, since the task reserves
a fixed host port. So exactly two tasks can ever be placed; every later RunTask the rule makes
answers failures (RESOURCE:MEMORY, RESOURCE:PORTS) and starts nothing.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

CLUSTER = "loop"
MARKER_CLUSTER = "loop-marker"
TASK_MEMORY = 300
HOST_PORT = 8080
BIG, SMALL = 1024, 256


def register(ecs: Any, cluster: str, memory: int) -> str:
    out = ecs.register_container_instance(
        cluster=cluster,
        totalResources=[
            {"name": "CPU", "type": "INTEGER", "integerValue": 2048},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
        ],
        attributes=[
            {"name": "ecs.os-type", "value": "linux"},
            {"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"},
        ],
    )
    return str(out["containerInstance"]["containerInstanceArn"])


def heartbeat(server: DockyardProcess, arn: str) -> None:
    """What an agent sends: the instance counts as connected."""
    req = urllib.request.Request(
        f"{server.endpoint}/_dockyard/agent/v1/heartbeat",
        data=json.dumps({"containerInstanceArn": arn}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


def active_tasks(ecs: Any) -> list[dict[str, Any]]:
    arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return []
    tasks: list[dict[str, Any]] = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return [t for t in tasks if t["lastStatus"] in ("PROVISIONING", "PENDING", "RUNNING")]


def log_messages(logs: Any, group: str) -> list[str]:
    try:
        found = logs.filter_log_events(logGroupName=group)["events"]
    except ClientError:
        return []
    return [e["message"] for e in found]


def assert_nothing_double_booked(ecs: Any, instances: dict[str, int]) -> None:
    """Per instance: the reserved host ports of its tasks are unique, their memory fits in
    what it registered, and ECS never reports negative remaining resources."""
    tasks = active_tasks(ecs)
    ports: Counter[tuple[str, int]] = Counter()
    memory: Counter[str] = Counter()
    for task in tasks:
        host = task["containerInstanceArn"]
        memory[host] += int(task["memory"])
        for container in task["containers"]:
            for binding in container.get("networkBindings") or []:
                ports[(host, binding["hostPort"])] += 1
        ports[(host, HOST_PORT)] += 1  # the static mapping of the task definition
    assert all(n == 1 for n in ports.values()), ports
    for host, used in memory.items():
        assert used <= instances[host], (host, used, instances[host])
    described = ecs.describe_container_instances(cluster=CLUSTER,
                                                 containerInstances=list(instances))  # fmt: skip
    for ci in described["containerInstances"]:
        remaining = {r["name"]: r for r in ci["remainingResources"]}
        assert remaining["MEMORY"]["integerValue"] >= 0, ci
        assert remaining["CPU"]["integerValue"] >= 0, ci
        registered = {r["name"]: r for r in ci["registeredResources"]}
        held = memory.get(ci["containerInstanceArn"], 0)
        assert remaining["MEMORY"]["integerValue"] == registered["MEMORY"]["integerValue"] - held


def test_a_rule_that_runs_tasks_on_ecs_events_is_bounded_by_capacity(fresh_server: Any) -> None:
    server = fresh_server()
    ecs = make_client("ecs", server.endpoint)
    events = make_client("events", server.endpoint)
    logs = make_client("logs", server.endpoint)
    cluster_arn = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]
    marker_arn = ecs.create_cluster(clusterName=MARKER_CLUSTER)["cluster"]["clusterArn"]
    instances = {register(ecs, CLUSTER, m): m for m in (SMALL, BIG, BIG)}
    for arn in instances:
        heartbeat(server, arn)
    taskdef = ecs.register_task_definition(
        family=f"looper-{uuid.uuid4().hex[:6]}",
        networkMode="bridge",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[{
            "name": "app", "image": "busybox", "essential": True, "memory": TASK_MEMORY,
            "command": ["sleep", "600"],
            "portMappings": [{"containerPort": 80, "hostPort": HOST_PORT, "protocol": "tcp"}],
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip

    # The loop: every ECS event runs two more tasks on the same cluster.
    events.put_rule(Name="loop", EventPattern=json.dumps({"source": ["aws.ecs"]}))
    events.put_targets(Rule="loop", Targets=[{
        "Id": "more", "Arn": cluster_arn,
        "RoleArn": "arn:aws:iam::000000000000:role/ecsEventsRole",
        "EcsParameters": {"TaskDefinitionArn": taskdef, "TaskCount": 2, "LaunchType": "EC2"},
    }])  # fmt: skip
    # A witness: ECS events of another cluster, written to a log group in the order they come.
    group = f"/aws/events/loop-marker-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    events.put_rule(Name="marker", EventPattern=json.dumps({
        "source": ["aws.ecs"], "detail": {"clusterArn": [marker_arn]},
    }))  # fmt: skip
    events.put_targets(Rule="marker", Targets=[
        {"Id": "log", "Arn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"}
    ])  # fmt: skip

    try:
        # Two places, two tasks: the events of the first must not run the rule's RunTask
        # while this one has placed the second task and not created it yet.
        first = ecs.run_task(cluster=CLUSTER, taskDefinition=taskdef, count=2)
        assert len(first["tasks"]) == 2, first["failures"]

        # The loop fills the two places there are, then only meets failures.
        wait_for(lambda: len(active_tasks(ecs)) >= 2, timeout=30, what="two tasks placed")
        # Every event published so far is delivered before one published now: register an
        # instance in the witness cluster and wait for its event to reach the log group.
        register(ecs, MARKER_CLUSTER, BIG)
        wait_for(lambda: log_messages(logs, group), timeout=30, what="the witness event")

        tasks = active_tasks(ecs)
        assert len(tasks) == 2, [(t["taskArn"], t["containerInstanceArn"]) for t in tasks]
        assert len({t["containerInstanceArn"] for t in tasks}) == 2
        assert all(instances[t["containerInstanceArn"]] == BIG for t in tasks)
        assert_nothing_double_booked(ecs, instances)
        # When capacity ran out, RunTask answered failures, and they explain themselves.
        again = ecs.run_task(cluster=CLUSTER, taskDefinition=taskdef, count=1)
        assert again["tasks"] == []
        reasons = {f["reason"] for f in again["failures"]}
        assert reasons == {"RESOURCE:MEMORY", "RESOURCE:PORTS"}, again["failures"]
        log = server.log()
        assert "could not place" in log
        assert "Traceback" not in log and "RecursionError" not in log, log[-4000:]
    finally:
        events.disable_rule(Name="loop")
        for task in ecs.list_tasks(cluster=CLUSTER)["taskArns"]:
            ecs.stop_task(cluster=CLUSTER, task=task)
