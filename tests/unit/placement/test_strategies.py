"""Each placement strategy and constraint, and how ECS checks them."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from dockyard.placement import (
    Candidate,
    Placement,
    PlacementError,
    Reason,
    TaskNeeds,
    combined,
    parse_constraints,
    parse_strategies,
    place,
    place_many,
)


def host(n: int, zone: str = "a", memory: int = 4096, cpu: int = 4096,
         kind: str = "m5.large", **attrs: str) -> Candidate:  # fmt: skip
    return Candidate(
        id=f"ci-{n}",
        cpu=cpu,
        memory=memory,
        attributes={
            "ecs.availability-zone": f"us-east-1{zone}",
            "ecs.instance-type": kind,
            **attrs,
        },
        ec2_instance_id=f"i-{n}",
    )


NEEDS = TaskNeeds(cpu=128, memory=512, group="service:web")


def chosen(placements: list[Placement]) -> list[str]:
    return [p.chosen.id if p.chosen else "-" for p in placements]


def test_spread_by_zone_lands_two_per_zone() -> None:
    fleet = [host(1, "a"), host(2, "a"), host(3, "b"), host(4, "c"), host(5, "c")]
    strategies = parse_strategies([{"type": "spread", "field": "attribute:ecs.availability-zone"}])
    placed = place_many(fleet, NEEDS, 6, strategies=strategies)
    zones = Counter(next(h for h in fleet if h.id == i).attributes["ecs.availability-zone"]
                    for i in chosen(placed))  # fmt: skip
    assert sorted(zones.values()) == [2, 2, 2]


def test_spread_counts_the_group_not_other_tasks() -> None:
    busy = Candidate("ci-1", 4096, 4096, groups={"service:other": 5})
    idle = Candidate("ci-2", 4096, 4096, groups={"service:web": 1})
    strategies = parse_strategies([{"type": "spread", "field": "instanceId"}])
    assert place([busy, idle], NEEDS, strategies=strategies).chosen == busy


def test_binpack_on_memory_fills_one_host_before_the_next() -> None:
    fleet = [host(1, memory=2048), host(2, memory=1536), host(3, memory=4096)]
    strategies = parse_strategies([{"type": "binpack", "field": "memory"}])
    assert chosen(place_many(fleet, NEEDS, 7, strategies=strategies)) == [
        "ci-2", "ci-2", "ci-2", "ci-1", "ci-1", "ci-1", "ci-1",
    ]  # fmt: skip


def test_binpack_on_cpu() -> None:
    fleet = [host(1, cpu=1024), host(2, cpu=256)]
    strategies = parse_strategies([{"type": "binpack", "field": "cpu"}])
    assert chosen(place_many(fleet, NEEDS, 3, strategies=strategies)) == ["ci-2", "ci-2", "ci-1"]


def test_spread_by_zone_then_binpack_within_the_zone() -> None:
    fleet = [host(1, "a", 4096), host(2, "a", 1024), host(3, "b", 4096), host(4, "b", 2048)]
    strategies = parse_strategies([
        {"type": "spread", "field": "attribute:ecs.availability-zone"},
        {"type": "binpack", "field": "memory"},
    ])  # fmt: skip
    assert chosen(place_many(fleet, NEEDS, 4, strategies=strategies)) == [
        "ci-2", "ci-4", "ci-2", "ci-4",
    ]  # fmt: skip


def test_random_is_seeded_and_stays_feasible() -> None:
    fleet = [host(n) for n in range(10)]
    strategies = parse_strategies([{"type": "random"}])
    first = chosen(place_many(fleet, NEEDS, 20, strategies=strategies, rng=random.Random(1)))
    again = chosen(place_many(fleet, NEEDS, 20, strategies=strategies, rng=random.Random(1)))
    assert first == again and len(set(first)) > 3


def test_distinct_instance_never_co_locates() -> None:
    fleet = [host(1), host(2), host(3)]
    needs = TaskNeeds(128, 128, group="service:web",
                      constraints=parse_constraints([{"type": "distinctInstance"}]))  # fmt: skip
    placed = place_many(
        fleet, needs, 4, strategies=parse_strategies([{"type": "binpack", "field": "memory"}])
    )
    assert chosen(placed)[:3] == ["ci-1", "ci-2", "ci-3"]
    assert placed[3].chosen is None and placed[3].reason == Reason.ATTRIBUTE


def test_member_of_excludes_the_hosts_it_should() -> None:
    fleet = [host(1, kind="t2.small"),
             host(2, kind="m5.large"),
             host(3, kind="m5.xlarge")]  # fmt: skip
    needs = TaskNeeds(128, 128, group="g", constraints=parse_constraints(
        [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.*"}]))  # fmt: skip
    placed = chosen(place_many(fleet, needs, 6))
    assert set(placed) == {"ci-2", "ci-3"}


def test_member_of_task_group_places_beside_the_group() -> None:
    fleet = [host(1), Candidate("ci-2", 4096, 4096, groups={"service:db": 1})]
    needs = TaskNeeds(128, 128, constraints=parse_constraints(
        [{"type": "memberOf", "expression": "task:group == service:db"}]))  # fmt: skip
    assert place(fleet, needs).chosen is not None
    assert place(fleet, needs).chosen.id == "ci-2"  # type: ignore[union-attr]


def test_a_task_that_fits_nowhere_names_the_reasons() -> None:
    small = host(1, memory=256)
    excluded = host(2, stack="dev")
    needs = TaskNeeds(128, 512, constraints=parse_constraints(
        [{"type": "memberOf", "expression": "attribute:stack == prod"}]))  # fmt: skip
    placement = place([small, excluded], needs)
    reasons = {r.candidate_id: r.reason for r in placement.rejections}
    assert reasons == {"ci-1": Reason.MEMORY, "ci-2": Reason.ATTRIBUTE}
    assert placement.reason == Reason.ATTRIBUTE  # the one that came closest


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ([{"type": "binpack", "field": "disk"}], "cpu or memory"),
        ([{"type": "binpack"}], "cpu or memory"),
        ([{"type": "spread"}], "needs a field"),
        ([{"type": "spread", "field": "zone"}], "attribute:NAME"),
        ([{"type": "cheapest"}], "random, spread or binpack"),
        ([{"type": "random"}] * 6, "At most 5"),
    ],
)
def test_bad_strategies(raw: list[dict[str, str]], complaint: str) -> None:
    with pytest.raises(PlacementError, match=complaint):
        parse_strategies(raw)


def test_strategy_fields_are_normalised() -> None:
    parsed = parse_strategies([{"type": "binpack", "field": "MEMORY"},
                               {"type": "spread", "field": "instanceid"},
                               {"type": "spread", "field": "host"}])  # fmt: skip
    assert [s.to_wire() for s in parsed] == [
        {"type": "binpack", "field": "memory"},
        {"type": "spread", "field": "instanceId"},
        {"type": "spread", "field": "host"},
    ]


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ([{"type": "distinctInstance", "expression": "attribute:a exists"}], "no expression"),
        ([{"type": "memberOf"}], "needs an expression"),
        ([{"type": "memberOf", "expression": "attribute:a =="}], "Invalid placement constraint"),
        ([{"type": "sameZone"}], "distinctInstance or memberOf"),
        ([{"type": "distinctInstance"}] * 11, "At most 10"),
    ],
)
def test_bad_constraints(raw: list[dict[str, str]], complaint: str) -> None:
    with pytest.raises(PlacementError, match=complaint):
        parse_constraints(raw)


def test_task_definition_constraints_count_toward_ten() -> None:
    own = parse_constraints([{"type": "memberOf", "expression": "attribute:a exists"}] * 4,
                            task_definition=True)  # fmt: skip
    with pytest.raises(PlacementError, match="task definition"):
        combined(own, parse_constraints([{"type": "distinctInstance"}] * 7))
    with pytest.raises(PlacementError, match="only have memberOf"):
        parse_constraints([{"type": "distinctInstance"}], task_definition=True)
