"""RunTask, StartTask and services with placement strategies and constraints, through the
handlers, on several connected container instances."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.ecs import Ecs
from tests.unit.services.ecs.tasks_harness import Client, make_ecs, make_link, registration, run

ZONE_FIELD = "attribute:ecs.availability-zone"


class Fleet:
    """An ECS with connected instances: (zone, instance type, memory) each."""

    def __init__(self, hosts: list[tuple[str, str, int]]) -> None:
        self.ecs: Ecs = make_ecs()
        self.client = Client(self.ecs)
        link = make_link(self.ecs, managed_capacity=False)
        self.arns: list[str] = []
        for zone, kind, memory in hosts:
            reg = registration(memory=memory, cpu=8192)
            reg.attributes.update({"ecs.availability-zone": zone, "ecs.instance-type": kind})
            self.arns.append(run(link.register(reg)))
        self.client.taskdef()

    def run(self, count: int, **params: Any) -> dict[str, Any]:
        return self.client.run_task(count=count, **params)

    def zones(self, out: dict[str, Any]) -> Counter[str]:
        return Counter(t["availabilityZone"] for t in out["tasks"])

    def hosts(self, out: dict[str, Any]) -> list[int]:
        return [self.arns.index(t["containerInstanceArn"]) for t in out["tasks"]]


ZONED = [("us-east-1a", "m5.large", 4096), ("us-east-1a", "m5.large", 4096),
         ("us-east-1b", "m5.large", 4096), ("us-east-1c", "t2.small", 4096),
         ("us-east-1c", "m5.large", 4096)]  # fmt: skip


def test_run_task_spreads_by_zone_two_two_two() -> None:
    fleet = Fleet(ZONED)
    out = fleet.run(6, placementStrategy=[{"type": "spread", "field": ZONE_FIELD}])
    assert not out["failures"]
    assert sorted(fleet.zones(out).values()) == [2, 2, 2]


def test_spread_counts_earlier_tasks_of_the_group() -> None:
    fleet = Fleet(ZONED)
    strategy = [{"type": "spread", "field": ZONE_FIELD}]
    fleet.run(1, group="batch", placementStrategy=strategy)
    fleet.run(1, group="batch", placementStrategy=strategy)
    out = fleet.run(1, group="batch", placementStrategy=strategy)
    zones = {t["availabilityZone"] for t in fleet.client("DescribeTasks", tasks=[
        a for a in fleet.client("ListTasks")["taskArns"]])["tasks"]}  # fmt: skip
    assert len(zones) == 3 and len(out["tasks"]) == 1


def test_binpack_memory_fills_one_host_before_the_next() -> None:
    fleet = Fleet([("us-east-1a", "m5.large", 512), ("us-east-1a", "m5.large", 384),
                   ("us-east-1b", "m5.large", 1024)])  # fmt: skip
    out = fleet.run(7, placementStrategy=[{"type": "binpack", "field": "memory"}])
    assert fleet.hosts(out) == [1, 1, 1, 0, 0, 0, 0]


def test_distinct_instance_never_co_locates_and_names_the_reason() -> None:
    fleet = Fleet(ZONED[:3])
    out = fleet.run(5, placementConstraints=[{"type": "distinctInstance"}])
    assert sorted(fleet.hosts(out)) == [0, 1, 2]
    assert {f["reason"] for f in out["failures"]} == {"ATTRIBUTE"}


def test_member_of_excludes_the_hosts_it_should() -> None:
    fleet = Fleet(ZONED)
    expression = (
        "attribute:ecs.instance-type =~ m5.* and attribute:ecs.availability-zone != us-east-1a"
    )
    out = fleet.run(6, placementConstraints=[{"type": "memberOf", "expression": expression}])
    assert set(fleet.hosts(out)) == {2, 4}


def test_task_definition_constraints_apply_too() -> None:
    fleet = Fleet(ZONED)
    pinned = "attribute:ecs.instance-type == t2.small"
    fleet.client.taskdef(
        "pinned", placementConstraints=[{"type": "memberOf", "expression": pinned}]
    )
    out = fleet.client.run_task("pinned", count=3)
    assert set(fleet.hosts(out)) == {3}


def test_a_task_that_fits_nowhere_is_reported_with_its_reasons() -> None:
    fleet = Fleet([("us-east-1a", "m5.large", 64), ("us-east-1b", "t2.small", 4096)])
    out = fleet.run(1, placementConstraints=[
        {"type": "memberOf", "expression": "attribute:ecs.instance-type == m5.large"}])  # fmt: skip
    assert out["tasks"] == []
    reasons = {f["arn"]: f["reason"] for f in out["failures"]}
    assert reasons == {fleet.arns[0]: "RESOURCE:MEMORY", fleet.arns[1]: "ATTRIBUTE"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"placementStrategy": [{"type": "binpack", "field": "disk"}]}, "placementStrategy.field"),
        ({"placementStrategy": [{"type": "random"}] * 6}, "At most 5"),
        ({"placementConstraints": [{"type": "memberOf", "expression": "attribute:x =="}]},
         "placementConstraints.expression"),
        ({"placementConstraints": [{"type": "distinctInstance"}] * 11}, "At most 10"),
        ({"launchType": "FARGATE", "placementStrategy": [{"type": "random"}]}, "Fargate"),
    ],
)  # fmt: skip
def test_bad_placement_is_refused(params: dict[str, Any], message: str) -> None:
    fleet = Fleet(ZONED[:1])
    with pytest.raises(ServiceError) as err:
        fleet.run(1, **params)
    assert err.value.code == "InvalidParameterException"
    assert message in err.value.message


def test_services_keep_and_show_their_placement() -> None:
    fleet = Fleet(ZONED)
    strategy = [{"type": "spread", "field": ZONE_FIELD}, {"type": "binpack", "field": "MEMORY"}]
    constraints = [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*"}]
    service = fleet.client("CreateService", serviceName="web", taskDefinition="web",
                           desiredCount=0, placementStrategy=strategy,
                           placementConstraints=constraints)["service"]  # fmt: skip
    assert service["placementStrategy"][1] == {"type": "binpack", "field": "memory"}
    assert service["placementConstraints"] == constraints
    deployments = len(service["deployments"])
    updated = fleet.client("UpdateService", service="web",
                           placementStrategy=[{"type": "random"}])["service"]  # fmt: skip
    assert updated["placementStrategy"] == [{"type": "random"}]
    assert updated["placementConstraints"] == constraints
    assert len(updated["deployments"]) == deployments  # no new deployment
    with pytest.raises(ServiceError) as err:
        fleet.client("UpdateService", service="web",
                     placementConstraints=[{"type": "memberOf"}])  # fmt: skip
    assert "placementConstraints.expression" in err.value.message
