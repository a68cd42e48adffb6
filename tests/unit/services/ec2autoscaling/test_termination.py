"""Which instances a scale-in takes, in AWS's order: zone balance, then the policies."""

from __future__ import annotations

from dockyard.services.ec2autoscaling.model import Group, GroupInstance, LifecycleState
from dockyard.services.ec2autoscaling.termination import choose

NOW = 1_700_000_000.0
LT = "lt-0123456789abcdef0"


def inst(iid: str, zone: str = "a", *, age: float = 100.0, version: str = "2",
         template: str = LT, protected: bool = False) -> GroupInstance:  # fmt: skip
    return GroupInstance(iid, zone, f"subnet-{zone}", "t3.micro", template, None, version,
                         LifecycleState.IN_SERVICE, NOW - age, protected=protected)  # fmt: skip


def group(*policies: str) -> Group:
    return Group("web", "arn", "123456789012", "us-east-1", NOW, 0, 10, 0, template_id=LT,
                 template_version="2",
                 termination_policies=list(policies) or ["Default"])  # fmt: skip


def ids(chosen: list[GroupInstance]) -> list[str]:
    return [i.instance_id for i in chosen]


def test_the_zone_with_most_instances_loses_one_first() -> None:
    # i-a1 is the closest to its next instance hour, but zone b has more instances.
    pool = [inst("i-a1", "a", age=3590), inst("i-b1", "b", age=100), inst("i-b2", "b", age=200)]
    assert ids(choose(group(), pool, 1, NOW)) == ["i-b2"]
    # Once the zones are even, the policies decide among all of them.
    assert ids(choose(group(), pool, 3, NOW)) == ["i-b2", "i-a1", "i-b1"]


def test_default_prefers_another_template_then_the_oldest_version() -> None:
    pool = [inst("i-1", version="2"), inst("i-2", version="1"),
            inst("i-3", template="lt-other", version="7")]  # fmt: skip
    assert ids(choose(group(), pool, 3, NOW)) == ["i-3", "i-2", "i-1"]


def test_default_then_takes_the_one_closest_to_its_next_instance_hour() -> None:
    # Launched 3590 s ago: 10 s to its next billing hour; 100 s ago: 3500 s; 7100 s: 100 s.
    pool = [inst("i-1", age=100), inst("i-2", age=3590), inst("i-3", age=7100)]
    assert ids(choose(group(), pool, 3, NOW)) == ["i-2", "i-3", "i-1"]


def test_newest_and_oldest_instance_policies() -> None:
    pool = [inst("i-old", age=9000), inst("i-mid", age=500), inst("i-new", age=5)]
    assert ids(choose(group("NewestInstance"), pool, 3, NOW)) == ["i-new", "i-mid", "i-old"]
    assert ids(choose(group("OldestInstance"), pool, 3, NOW)) == ["i-old", "i-mid", "i-new"]


def test_policies_apply_in_order_and_the_default_breaks_their_ties() -> None:
    # OldestLaunchTemplate first: i-2 and i-3 share the old version; Default's hour rule
    # then picks i-3 (10 s to its hour).
    pool = [inst("i-1", version="3", age=3590), inst("i-2", version="1", age=100),
            inst("i-3", version="1", age=3590)]  # fmt: skip
    g = group("OldestLaunchTemplate")
    g.template_version = "3"
    assert ids(choose(g, pool, 1, NOW)) == ["i-3"]
    # OldestInstance before ClosestToNextInstanceHour: the age decides.
    g = group("OldestInstance", "ClosestToNextInstanceHour")
    pool[0].launched = NOW - 3600 * 5
    assert ids(choose(g, pool, 1, NOW)) == ["i-1"]


def test_protected_instances_are_never_chosen() -> None:
    pool = [inst("i-1", "a", protected=True), inst("i-2", "a", protected=True),
            inst("i-3", "b")]  # fmt: skip
    # Zone a has most instances but only protected ones: the unprotected zone b gives one.
    assert ids(choose(group(), pool, 3, NOW)) == ["i-3"]
    assert choose(group(), [inst("i-9", protected=True)], 1, NOW) == []


def test_a_final_tie_goes_to_the_lowest_instance_id() -> None:
    pool = [inst("i-b", age=100), inst("i-a", age=100)]
    assert ids(choose(group(), pool, 1, NOW)) == ["i-a"]
