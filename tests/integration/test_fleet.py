"""Three hosts, one server: placement across zones, a host that dies, draining.

Each host is a network namespace with its own address (10.77.0.10-12) on a test bridge,
running a real `dockyard agent` in availability zone us-east-1a/b/c. The server runs with
--time-scale 10: agents heartbeat every 10 s (1 s wall), an agent is disconnected after 30 s
without one and its tasks are stopped after 60 s more, so a killed host's tasks are replaced
within 90 s of server time (9 s wall, plus the loops' periods).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.integration.fleet import GATEWAY, Fleet, Host
from tests.support.server import DockyardProcess

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(
        os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nsenter"),
        reason="needs root, ip and nsenter",
    ),
]

CLUSTER = "fleet"
TIME_SCALE = 10.0
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
MARKER = "10731"  # sleep argument that tells this test's task processes apart


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[DockyardProcess, Fleet]]:
    hosts = Fleet(tmp_path, ZONES)
    hosts.create()
    server = DockyardProcess(
        tmp_path / "server",
        "--host", "0.0.0.0",
        "--runtime", "process",
        "--no-local-agent",
        "--time-scale", str(TIME_SCALE),
    )  # fmt: skip
    try:
        server.start()
        for host in hosts.hosts:
            host.start_agent(f"http://{GATEWAY}:{server.port}", CLUSTER, TIME_SCALE)
        yield server, hosts
    finally:
        server.stop()
        hosts.destroy()


def instances(ecs: Any) -> dict[str, dict[str, Any]]:
    """Container instances of the cluster by availability zone."""
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    if not arns:
        return {}
    described = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)
    found = {}
    for ci in described["containerInstances"]:
        attrs = {a["name"]: a.get("value") for a in ci["attributes"]}
        found[str(attrs.get("ecs.availability-zone"))] = ci
    return found


def running_tasks(ecs: Any, service: str) -> list[dict[str, Any]]:
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=service)["taskArns"]
    if not arns:
        return []
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return [t for t in tasks if t["lastStatus"] == "RUNNING"]


def zone_of(by_zone: dict[str, dict[str, Any]], task: dict[str, Any]) -> str:
    for zone, ci in by_zone.items():
        if ci["containerInstanceArn"] == task["containerInstanceArn"]:
            return zone
    return "?"


def spread(ecs: Any, service: str) -> Counter[str]:
    by_zone = instances(ecs)
    return Counter(zone_of(by_zone, t) for t in running_tasks(ecs, service))


def test_fleet_spreads_replaces_a_dead_host_and_drains(
    fleet: tuple[DockyardProcess, Fleet],
) -> None:
    server, hosts = fleet
    ecs = make_client("ecs", server.endpoint)
    ecs.create_cluster(clusterName=CLUSTER)
    wait_for(
        "three connected agents",
        lambda: len([c for c in instances(ecs).values() if c["agentConnected"]]) == 3,
        30,
    )
    by_zone = instances(ecs)
    assert sorted(by_zone) == ZONES
    ecs.register_task_definition(
        family="fleet-sleeper",
        networkMode="host",
        containerDefinitions=[
            {"name": "main", "image": "busybox", "command": ["sleep", MARKER], "memory": 32}
        ],
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="web",
        taskDefinition="fleet-sleeper",
        desiredCount=6,
        launchType="EC2",
        placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}],
    )

    # Six tasks, two per zone; each task's process runs inside its host's namespace.
    wait_for("six running tasks", lambda: len(running_tasks(ecs, "web")) == 6, 60)
    assert spread(ecs, "web") == {z: 2 for z in ZONES}
    for host in hosts.hosts:
        assert len(host.processes(f"sleep {MARKER}")) == 2, host.log()[-2000:]
    tasks = running_tasks(ecs, "web")
    assert {t["availabilityZone"] for t in tasks} == set(ZONES)

    # kill -9 one agent: its tasks keep running, unheard of.
    dead: Host = hosts.hosts[0]
    dead_arn = by_zone[dead.zone]["containerInstanceArn"]
    stale = dead.processes(f"sleep {MARKER}")
    dead_tasks = {t["taskArn"] for t in tasks if t["containerInstanceArn"] == dead_arn}
    assert len(dead_tasks) == 2
    killed_at = time.monotonic()
    dead.kill_agent(signal.SIGKILL)

    wait_for(
        "the dead host disconnected",
        lambda: not instances(ecs)[dead.zone]["agentConnected"],
        15,
    )
    # 30 s timeout + 60 s grace = 90 s of server time: 9 s wall, plus the loops' periods.
    wait_for(
        "six running tasks on the other hosts",
        lambda: (
            len(running := running_tasks(ecs, "web")) == 6
            and all(t["containerInstanceArn"] != dead_arn for t in running)
        ),
        30,
    )
    replaced_after = time.monotonic() - killed_at
    assert replaced_after < 30
    stopped = ecs.describe_tasks(cluster=CLUSTER, tasks=sorted(dead_tasks))["tasks"]
    for task in stopped:
        assert task["lastStatus"] == "STOPPED"
        assert task["stopCode"] == "TerminationNotice"
        assert "agent is disconnected" in task["stoppedReason"]
    assert spread(ecs, "web") == {"us-east-1b": 3, "us-east-1c": 3}
    service = ecs.describe_services(cluster=CLUSTER, services=["web"])["services"][0]
    assert service["runningCount"] == 6
    # The dead host's processes are still there: nobody told them to stop.
    assert sorted(dead.processes(f"sleep {MARKER}")) == sorted(stale)

    # The agent comes back on its data dir: it stops the copies the server already replaced.
    dead.start_agent(f"http://{GATEWAY}:{server.port}", CLUSTER, TIME_SCALE)
    wait_for("the stale copies stopped", lambda: not dead.processes(f"sleep {MARKER}"), 30)
    wait_for("the host reconnected", lambda: instances(ecs)[dead.zone]["agentConnected"], 15)
    assert instances(ecs)[dead.zone]["containerInstanceArn"] == dead_arn  # the same instance
    assert len(running_tasks(ecs, "web")) == 6

    # Draining zone b moves its tasks to the other two hosts.
    drained = instances(ecs)["us-east-1b"]["containerInstanceArn"]
    ecs.update_container_instances_state(
        cluster=CLUSTER, containerInstances=[drained], status="DRAINING"
    )
    wait_for(
        "six running tasks off the drained host",
        lambda: (
            len(running := running_tasks(ecs, "web")) == 6
            and all(t["containerInstanceArn"] != drained for t in running)
        ),
        60,
    )
    wait_for("the drained host's processes gone",
             lambda: not hosts.hosts[1].processes(f"sleep {MARKER}"), 30)  # fmt: skip
    assert set(spread(ecs, "web")) == {"us-east-1a", "us-east-1c"}

    ecs.update_service(cluster=CLUSTER, service="web", desiredCount=0)
    wait_for("no task left", lambda: not running_tasks(ecs, "web"), 60)
