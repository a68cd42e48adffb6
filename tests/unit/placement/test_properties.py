"""Properties over random fleets: constraints are never broken, spread stays within one task,
and the fleet index decides exactly as the plain strategy chain."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.placement import (
    Candidate,
    Fleet,
    Strategy,
    TaskNeeds,
    check,
    parse_constraints,
    parse_strategies,
    place,
)

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
TYPES = ["t2.small", "m5.large", "c5.xlarge"]


@st.composite
def fleets(draw: st.DrawFn, roomy: bool = False) -> list[Candidate]:
    size = draw(st.integers(1, 12))
    result = []
    for n in range(size):
        memory = 1_000_000 if roomy else draw(st.sampled_from([256, 512, 1024, 2048]))
        cpu = 1_000_000 if roomy else draw(st.sampled_from([256, 1024, 4096]))
        groups = {} if roomy else draw(st.dictionaries(st.sampled_from(["service:web", "x"]),
                                                       st.integers(0, 2), max_size=2))  # fmt: skip
        attributes = {"ecs.availability-zone": draw(st.sampled_from(ZONES)),
                      "ecs.instance-type": draw(st.sampled_from(TYPES))}  # fmt: skip
        if draw(st.booleans()):
            attributes["rack"] = draw(st.sampled_from(["r1", "r2"]))
        result.append(Candidate(f"ci-{n:02d}", cpu, memory, attributes=attributes,
                                groups=groups, task_count=sum(groups.values())))  # fmt: skip
    return result


STRATEGY_STEPS = [
    {"type": "binpack", "field": "memory"},
    {"type": "binpack", "field": "cpu"},
    {"type": "spread", "field": "instanceId"},
    {"type": "spread", "field": "attribute:ecs.availability-zone"},
    {"type": "spread", "field": "attribute:rack"},
]
CONSTRAINTS = [
    {"type": "distinctInstance"},
    {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ m5.* or "
                                       "attribute:ecs.instance-type == c5.xlarge"},
    {"type": "memberOf",
     "expression": "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"},
    {"type": "memberOf", "expression": "not(task:group == x)"},
    {"type": "memberOf", "expression": "attribute:rack exists"},
]  # fmt: skip

chains = st.lists(st.sampled_from(STRATEGY_STEPS), max_size=3).map(parse_strategies)
constraint_sets = st.lists(st.sampled_from(CONSTRAINTS), max_size=3, unique_by=str).map(
    parse_constraints
)
needs_st = st.builds(
    lambda mem, cpu, cons: TaskNeeds(cpu, mem, group="service:web", constraints=cons),
    st.sampled_from([128, 256, 512]),
    st.sampled_from([64, 256]),
    constraint_sets,
)


def replay(
    fleet: list[Candidate], needs: TaskNeeds, strategies: tuple[Strategy, ...], count: int
) -> list[str | None]:
    """Place `count` tasks one by one with the plain chain, checking each decision."""
    pool = {c.id: c for c in fleet}
    result: list[str | None] = []
    for _ in range(count):
        placement = place(list(pool.values()), needs, strategies=strategies)
        if placement.chosen is None:
            result.append(None)
            continue
        before = pool[placement.chosen.id]
        assert check(before, needs) is None  # no constraint, resource or port is broken
        pool[before.id] = before.take(needs)
        result.append(before.id)
    return result


@settings(max_examples=150, deadline=None)
@given(fleets(), needs_st, chains, st.integers(1, 15))
def test_no_constraint_is_ever_violated(
    fleet: list[Candidate], needs: TaskNeeds, strategies: tuple[Strategy, ...], count: int
) -> None:
    chosen = replay(fleet, needs, strategies, count)
    by_id = {c.id: c for c in fleet}
    placed = Counter(i for i in chosen if i is not None)
    for instance_id, n in placed.items():
        c = by_id[instance_id]
        assert n * needs.memory <= c.memory and n * needs.cpu <= c.cpu
        for con in needs.constraints:
            if con.query is None:
                assert n == 1 and c.groups.get("service:web", 0) == 0
            elif con.query.static:
                assert con.query(c.facts())
    # Once a task fits nowhere, later identical ones fit nowhere either.
    if None in chosen:
        assert all(i is None for i in chosen[chosen.index(None) :])


@settings(max_examples=150, deadline=None)
@given(fleets(roomy=True), constraint_sets, st.integers(1, 30), st.booleans())
def test_spread_is_never_off_by_more_than_one(
    fleet: list[Candidate], constraints: tuple[object, ...], count: int, then_binpack: bool
) -> None:
    constraints = tuple(c for c in constraints if c.query is not None)  # type: ignore[attr-defined]
    needs = TaskNeeds(128, 128, group="service:web", constraints=constraints)  # type: ignore[arg-type]
    steps = [{"type": "spread", "field": "attribute:ecs.availability-zone"}]
    if then_binpack:
        steps.append({"type": "binpack", "field": "memory"})
    chosen = replay(fleet, needs, parse_strategies(steps), count)
    eligible = {c.attributes["ecs.availability-zone"] for c in fleet if check(c, needs) is None}
    zone_of = {c.id: c.attributes["ecs.availability-zone"] for c in fleet}
    counts = Counter(zone_of[i] for i in chosen if i is not None)
    if eligible:
        per_zone = [counts.get(z, 0) for z in eligible]
        assert max(per_zone) - min(per_zone) <= 1
        assert None not in chosen


@settings(max_examples=200, deadline=None)
@given(fleets(), needs_st, chains, st.integers(1, 20))
def test_the_fleet_index_decides_as_the_chain(
    fleet: list[Candidate], needs: TaskNeeds, strategies: tuple[Strategy, ...], count: int
) -> None:
    if not Fleet.supports(strategies):
        return
    expected = replay(fleet, needs, strategies, count)
    index = Fleet(fleet, needs, strategies)
    got = []
    for _ in range(count):
        i = index.place(needs)
        got.append(None if i is None else index.ids[i])
    assert got == expected
