"""Three hosts, one server: placement across zones, a host that dies, draining.

Each host is a network namespace with its own address (10.77.0.10-12) on a test bridge,
running a real `dockyard agent` in availability zone us-east-1a/b/c. The server requires
SigV4 (--auth-file) and serves HTTPS (--tls-cert): the agents join with a join token and
verify the server's certificate against the test CA (--ca). The server runs with
--time-scale 10: agents heartbeat every 10 s (1 s wall), an agent is disconnected after 30 s
without one and its tasks are stopped after 60 s more, so a killed host's tasks are replaced
within 90 s of server time (9 s wall, plus the loops' periods).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.integration.fleet import GATEWAY, Fleet, Host
from tests.support.server import DockyardProcess
from tests.support.tls import make_pki

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


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DockyardProcess, Fleet]]:
    """One server and three agents for the whole module: the placement test runs first, the
    test that kills and restarts an agent last."""
    tmp_path = tmp_path_factory.mktemp("fleet")
    hosts = Fleet(tmp_path, ZONES)
    hosts.create()
    pki = make_pki(tmp_path / "pki", [GATEWAY, "127.0.0.1"])
    auth = tmp_path / "auth"
    auth.write_text("test test\n")
    server = DockyardProcess(
        tmp_path / "server",
        # Agents in their own network namespaces reach it through the bridge; unsigned (the
        # test's namespaces only), so it must be told the API is open on purpose.
        "--host", "0.0.0.0", "--insecure-open-api",
        "--runtime", "process",
        "--no-local-agent",
        "--time-scale", str(TIME_SCALE),
        "--auth-file", str(auth),
        "--tls-cert", str(pki.cert),
        "--tls-key", str(pki.key),
        ca=pki.ca,
    )  # fmt: skip
    try:
        server.start()
        token = subprocess.run(
            [sys.executable, "-m", "dockyard", "join-token", "--server", server.endpoint,
             "--cluster", CLUSTER, "--ca", str(pki.ca)],
            capture_output=True, text=True, timeout=60, check=True,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
        ).stdout.strip()  # fmt: skip
        token_file = tmp_path / "join-token"
        token_file.write_text(token)
        for host in hosts.hosts:
            host.extra = ["--ca", str(pki.ca), "--token-file", str(token_file)]
            host.start_agent(agent_url(server), CLUSTER, TIME_SCALE)
        yield server, hosts
    finally:
        server.stop()
        hosts.destroy()


def agent_url(server: DockyardProcess) -> str:
    """The server as the hosts reach it: over HTTPS, on the bridge's address."""
    return f"https://{GATEWAY}:{server.port}"


def ecs_client(server: DockyardProcess) -> Any:
    return boto3.client(
        "ecs",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        verify=str(server.ca),
        config=Config(retries={"max_attempts": 1}),
    )


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


def memory_of(ci: dict[str, Any], which: str) -> int:
    """MEMORY from a container instance's registeredResources or remainingResources."""
    return next(int(r["integerValue"]) for r in ci[which] if r["name"] == "MEMORY")


def run(ecs: Any, family: str, count: int, **params: Any) -> tuple[list[str], list[Any]]:
    """RunTask: the ARNs of the tasks placed and the failures."""
    out = ecs.run_task(
        cluster=CLUSTER, taskDefinition=family, count=count, launchType="EC2", **params
    )
    return [t["taskArn"] for t in out["tasks"]], out["failures"]


def zones_of(ecs: Any, arns: list[str]) -> list[str]:
    by_zone = instances(ecs)
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    by_arn = {t["taskArn"]: zone_of(by_zone, t) for t in tasks}
    return [by_arn[a] for a in arns]


def all_in(ecs: Any, arns: list[str], status: str) -> bool:
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    return len(tasks) == len(arns) and all(t["lastStatus"] == status for t in tasks)


def on_hosts(hosts: Fleet, marker: str) -> Counter[str]:
    """Task processes with `marker` per host zone, counted in each host's namespace."""
    return Counter({h.zone: n for h in hosts.hosts if (n := len(h.processes(f"sleep {marker}")))})


def cluster_of_three(ecs: Any) -> dict[str, dict[str, Any]]:
    """Create the cluster, wait until the three agents are connected: their instances by zone."""
    ecs.create_cluster(clusterName=CLUSTER)
    wait_for(
        "three connected agents",
        lambda: len([c for c in instances(ecs).values() if c["agentConnected"]]) == 3,
        30,
    )
    by_zone = instances(ecs)
    assert sorted(by_zone) == ZONES
    return by_zone


def test_placement_on_real_agents_binpack_distinct_member_of_and_no_fit(
    fleet: tuple[DockyardProcess, Fleet],
) -> None:
    server, hosts = fleet
    ecs = ecs_client(server)
    by_zone = cluster_of_three(ecs)
    arn_of = {zone: ci["containerInstanceArn"] for zone, ci in by_zone.items()}
    started: list[str] = []

    def stop_and_wait(arns: list[str], markers: list[str]) -> None:
        for arn in arns:
            ecs.stop_task(cluster=CLUSTER, task=arn, reason="placement test done")
        wait_for("the tasks stopped", lambda: all_in(ecs, arns, "STOPPED"), 60)
        wait_for(
            "their processes gone",
            lambda: not any(on_hosts(hosts, marker) for marker in markers),
            30,
        )

    try:
        # binpack on memory: three tasks of a third of a host fill one host, the 4th goes on
        # another one. Every host registered its real memory; size from what remains.
        remaining = min(memory_of(ci, "remainingResources") for ci in by_zone.values())
        third = remaining // 3
        assert third > 64, remaining
        ecs.register_task_definition(
            family="fleet-binpack",
            networkMode="host",
            containerDefinitions=[{"name": "main", "image": "busybox",
                                   "command": ["sleep", "10741"], "memoryReservation": third}],
        )  # fmt: skip
        binpacked, failures = run(
            ecs, "fleet-binpack", 4, placementStrategy=[{"type": "binpack", "field": "memory"}]
        )
        started += binpacked
        assert failures == [] and len(binpacked) == 4
        placed = zones_of(ecs, binpacked)
        full = placed[0]
        assert placed[:3] == [full] * 3 and placed[3] != full, placed
        wait_for("the binpacked tasks running", lambda: all_in(ecs, binpacked, "RUNNING"), 60)
        assert on_hosts(hosts, "10741") == Counter(placed)
        left = memory_of(instances(ecs)[full], "remainingResources")
        assert left == memory_of(by_zone[full], "remainingResources") - 3 * third < third
        stop_and_wait(binpacked, ["10741"])

        # distinctInstance: three tasks of a group on three hosts; a 4th of it fits nowhere.
        ecs.register_task_definition(
            family="fleet-placed",
            networkMode="host",
            containerDefinitions=[{"name": "main", "image": "busybox",
                                   "command": ["sleep", "10742"], "memoryReservation": 32}],
        )  # fmt: skip
        distinct = [{"type": "distinctInstance"}]
        spaced, failures = run(
            ecs, "fleet-placed", 3, group="spaced", placementConstraints=distinct
        )
        started += spaced
        assert failures == []
        assert sorted(zones_of(ecs, spaced)) == ZONES
        refused, failures = run(
            ecs, "fleet-placed", 1, group="spaced", placementConstraints=distinct
        )
        started += refused
        assert refused == []
        assert {f["reason"] for f in failures} == {"ATTRIBUTE"}
        assert {f["arn"] for f in failures} == set(arn_of.values())
        assert all("distinctInstance" in f["detail"] for f in failures), failures
        wait_for("the distinct tasks running", lambda: all_in(ecs, spaced, "RUNNING"), 60)
        assert on_hosts(hosts, "10742") == {z: 1 for z in ZONES}

        # memberOf: no task lands in us-east-1b, spread over the two hosts that are left.
        member, failures = run(
            ecs, "fleet-placed", 4, group="member",
            placementConstraints=[{"type": "memberOf",
                                   "expression": "attribute:ecs.availability-zone != us-east-1b"}],
            placementStrategy=[{"type": "spread", "field": "instanceId"}],
            overrides={"containerOverrides": [{"name": "main", "command": ["sleep", "10743"]}]},
        )  # fmt: skip
        started += member
        assert failures == []
        assert Counter(zones_of(ecs, member)) == {"us-east-1a": 2, "us-east-1c": 2}
        wait_for("the memberOf tasks running", lambda: all_in(ecs, member, "RUNNING"), 60)
        assert on_hosts(hosts, "10743") == {"us-east-1a": 2, "us-east-1c": 2}

        # More memory than any host registered: no task, one RESOURCE:MEMORY per host.
        biggest = max(memory_of(ci, "registeredResources") for ci in by_zone.values())
        none, failures = run(ecs, "fleet-placed", 1, overrides={"memory": str(biggest + 1024)})
        started += none
        assert none == []
        assert {f["reason"] for f in failures} == {"RESOURCE:MEMORY"}
        assert {f["arn"] for f in failures} == set(arn_of.values())

        stop_and_wait(spaced + member, ["10742", "10743"])
        for ci in instances(ecs).values():
            assert ci["runningTasksCount"] == 0 and ci["pendingTasksCount"] == 0
    finally:  # leave the hosts empty for the next test, whatever happened here
        for arn in started:
            ecs.stop_task(cluster=CLUSTER, task=arn, reason="placement test done")


def test_fleet_spreads_replaces_a_dead_host_and_drains(
    fleet: tuple[DockyardProcess, Fleet],
) -> None:
    server, hosts = fleet
    ecs = ecs_client(server)
    by_zone = cluster_of_three(ecs)
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
    dead.start_agent(agent_url(server), CLUSTER, TIME_SCALE)
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
