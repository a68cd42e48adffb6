"""Placement across several container instances, through boto3 against a real server.

The instances are registered with RegisterContainerInstance (attributes such as
`ecs.availability-zone`) and kept connected by heartbeats on the agent protocol; no agent runs
their tasks, so tasks stay PENDING: what is asserted is where they were placed, and why a task
could not be placed.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess

CLUSTER = "fleet"
ZONE = "attribute:ecs.availability-zone"


class Hosts:
    def __init__(self, server: DockyardProcess) -> None:
        self.server = server
        self.ecs = make_client("ecs", server.endpoint)
        self.arns: list[str] = []

    def register(self, zone: str, kind: str, memory: int = 2048) -> str:
        out = self.ecs.register_container_instance(
            cluster=CLUSTER,
            totalResources=[
                {"name": "CPU", "type": "INTEGER", "integerValue": 4096},
                {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
            ],
            attributes=[
                {"name": "ecs.availability-zone", "value": zone},
                {"name": "ecs.instance-type", "value": kind},
                {"name": "ecs.os-type", "value": "linux"},
            ],
        )
        arn = str(out["containerInstance"]["containerInstanceArn"])
        self.arns.append(arn)
        return arn

    def heartbeat(self) -> None:
        """What an agent sends: the instances count as connected."""
        for arn in self.arns:
            body = json.dumps({"containerInstanceArn": arn}).encode()
            req = urllib.request.Request(
                f"{self.server.endpoint}/_dockyard/agent/v1/heartbeat",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req, timeout=5) as resp:
                assert resp.status == 200

    def run(self, count: int, **params: Any) -> dict[str, Any]:
        self.heartbeat()
        out: dict[str, Any] = self.ecs.run_task(
            cluster=CLUSTER, taskDefinition="placed", count=count, **params
        )
        return out

    def placed_on(self, out: dict[str, Any]) -> list[int]:
        arns = [t["taskArn"] for t in out["tasks"]]
        if not arns:
            return []
        described = self.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
        by_arn = {t["taskArn"]: t["containerInstanceArn"] for t in described}
        return [self.arns.index(by_arn[a]) for a in arns]

    def stop_all(self) -> None:
        for arn in self.ecs.list_tasks(cluster=CLUSTER)["taskArns"]:
            self.ecs.stop_task(cluster=CLUSTER, task=arn)


@pytest.fixture
def hosts(fresh_server: Callable[..., DockyardProcess]) -> Iterator[Hosts]:
    server = fresh_server("--no-local-agent")
    h = Hosts(server)
    h.ecs.create_cluster(clusterName=CLUSTER)
    h.ecs.register_task_definition(
        family="placed",
        containerDefinitions=[
            {
                "name": "app",
                "image": "busybox",
                "memory": 256,
                "cpu": 128,
                "command": ["sleep", "60"],
            }
        ],
    )
    for zone, kind in [("us-east-1a", "m5.large"), ("us-east-1a", "m5.large"),
                       ("us-east-1b", "m5.large"), ("us-east-1c", "t3.small"),
                       ("us-east-1c", "m5.large")]:  # fmt: skip
        h.register(zone, kind)
    yield h


def test_spread_by_zone_lands_two_two_two(hosts: Hosts) -> None:
    out = hosts.run(6, placementStrategy=[{"type": "spread", "field": ZONE}])
    assert out["failures"] == []
    zones = Counter(t["availabilityZone"] for t in out["tasks"])
    assert sorted(zones.values()) == [2, 2, 2]
    assert {t["lastStatus"] for t in out["tasks"]} <= {"PROVISIONING", "PENDING"}


def test_binpack_on_memory_fills_one_host_before_the_next(hosts: Hosts) -> None:
    out = hosts.run(10, placementStrategy=[{"type": "binpack", "field": "memory"}])
    placed = hosts.placed_on(out)
    assert placed == [placed[0]] * 8 + [placed[8]] * 2 and placed[8] != placed[0]


def test_distinct_instance_never_co_locates(hosts: Hosts) -> None:
    out = hosts.run(7, placementConstraints=[{"type": "distinctInstance"}])
    assert sorted(hosts.placed_on(out)) == [0, 1, 2, 3, 4]
    assert {f["reason"] for f in out["failures"]} == {"ATTRIBUTE"}


def test_member_of_excludes_the_hosts_it_should(hosts: Hosts) -> None:
    expression = (
        "attribute:ecs.instance-type =~ m5.* and not(attribute:ecs.availability-zone == us-east-1a)"
    )
    out = hosts.run(6, placementConstraints=[{"type": "memberOf", "expression": expression}])
    assert set(hosts.placed_on(out)) == {2, 4}


def test_a_task_that_fits_nowhere_is_reported_with_its_reason(hosts: Hosts) -> None:
    out = hosts.run(1, overrides={"memory": "4096"})
    assert out["tasks"] == []
    assert {f["reason"] for f in out["failures"]} == {"RESOURCE:MEMORY"}
    assert {f["arn"] for f in out["failures"]} == set(hosts.arns)


def test_attributes_steer_placement(hosts: Hosts) -> None:
    hosts.ecs.put_attributes(cluster=CLUSTER, attributes=[
        {"name": "stack", "value": "prod", "targetType": "container-instance",
         "targetId": hosts.arns[3]}])  # fmt: skip
    listed = hosts.ecs.list_attributes(cluster=CLUSTER, targetType="container-instance",
                                       attributeName="stack")["attributes"]  # fmt: skip
    assert [(a["targetId"], a["value"]) for a in listed] == [(hosts.arns[3], "prod")]
    out = hosts.run(3, placementConstraints=[
        {"type": "memberOf", "expression": "attribute:stack == prod"}])  # fmt: skip
    assert hosts.placed_on(out) == [3, 3, 3]


def test_without_an_agent_nothing_is_placed(hosts: Hosts) -> None:
    out = hosts.ecs.run_task(cluster=CLUSTER, taskDefinition="placed", count=1)
    assert out["tasks"] == []
    assert {f["reason"] for f in out["failures"]} == {"AGENT"}


def test_bad_placement_answers_invalid_parameter(hosts: Hosts) -> None:
    err = hosts.ecs.exceptions.InvalidParameterException
    with pytest.raises(err, match=r"placementStrategy\.field"):
        hosts.run(1, placementStrategy=[{"type": "binpack", "field": "disk"}])
    with pytest.raises(err, match="expression"):
        hosts.run(1, placementConstraints=[{"type": "memberOf", "expression": "attribute:x =="}])


def test_a_service_spreads_across_zones(hosts: Hosts) -> None:
    hosts.heartbeat()
    service = hosts.ecs.create_service(
        cluster=CLUSTER, serviceName="web", taskDefinition="placed", desiredCount=6,
        placementStrategy=[{"type": "spread", "field": ZONE},
                           {"type": "spread", "field": "instanceId"}],
        placementConstraints=[{"type": "memberOf",
                               "expression": "attribute:ecs.os-type == linux"}],
    )["service"]  # fmt: skip
    assert service["placementStrategy"][0] == {"type": "spread", "field": ZONE}
    deadline = time.monotonic() + 20
    arns: list[str] = []
    while time.monotonic() < deadline:
        hosts.heartbeat()
        arns = hosts.ecs.list_tasks(cluster=CLUSTER, serviceName="web")["taskArns"]
        if len(arns) >= 6:
            break
        time.sleep(0.2)
    tasks = hosts.ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
    zones = Counter(t["availabilityZone"] for t in tasks)
    assert sorted(zones.values()) == [2, 2, 2]
    assert len({t["containerInstanceArn"] for t in tasks}) == 5
