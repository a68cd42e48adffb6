"""Placing tasks: the chosen candidate fits, nothing is oversubscribed, failures explain."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dockyard.core.taskspec import ContainerSpec, NetworkMode, PortMapping, TaskSpec
from dockyard.placement import Candidate, Reason, TaskNeeds, check, place, place_many, task_needs
from dockyard.placement.rankers import least_memory

candidates = st.lists(
    st.builds(
        Candidate,
        id=st.text("abcdef0123", min_size=4, max_size=4),
        cpu=st.integers(0, 4096),
        memory=st.integers(0, 8192),
        used_ports=st.frozensets(st.tuples(st.sampled_from([80, 443, 8080]), st.just("tcp"))),
        agent_connected=st.booleans(),
    ),
    max_size=6,
    unique_by=lambda c: c.id,
)
task_needs_st = st.builds(
    TaskNeeds,
    cpu=st.integers(0, 2048),
    memory=st.integers(1, 4096),
    ports=st.lists(st.tuples(st.sampled_from([80, 443, 9000]), st.just("tcp")), max_size=1).map(
        tuple
    ),
)


@given(candidates, task_needs_st)
def test_a_chosen_candidate_always_fits(pool: list[Candidate], needs: TaskNeeds) -> None:
    placement = place(pool, needs)
    feasible = [c for c in pool if check(c, needs) is None]
    if feasible:
        assert placement.chosen is not None
        assert check(placement.chosen, needs) is None
        assert placement.reason is None
    else:
        assert placement.chosen is None
        assert {r.candidate_id for r in placement.rejections} == {c.id for c in pool}
        assert (placement.reason is None) == (not pool)


@given(candidates, task_needs_st, st.integers(1, 10))
def test_place_many_never_oversubscribes(
    pool: list[Candidate], needs: TaskNeeds, count: int
) -> None:
    placements = place_many(pool, needs, count)
    assert len(placements) == count
    by_id = {c.id: c for c in pool}
    taken: dict[str, int] = {}
    for p in placements:
        if p.chosen is not None:
            taken[p.chosen.id] = taken.get(p.chosen.id, 0) + 1
    for cid, n in taken.items():
        c = by_id[cid]
        assert n * needs.cpu <= c.cpu
        assert n * needs.memory <= c.memory
        if needs.ports:
            assert n == 1
    # Once a placement fails, the following ones fail too (same task, less room).
    failed = [p.chosen is None for p in placements]
    assert failed == sorted(failed)


def test_the_reason_is_that_of_the_closest_candidate() -> None:
    pool = [
        Candidate("a", cpu=4096, memory=100),  # memory short: passed the CPU filter
        Candidate("b", cpu=0, memory=8192),  # CPU short
        Candidate("c", cpu=4096, memory=8192, agent_connected=False),
    ]
    placement = place(pool, TaskNeeds(cpu=256, memory=512))
    assert placement.chosen is None
    assert placement.reason == Reason.MEMORY
    assert {r.candidate_id: r.reason for r in placement.rejections} == {
        "a": Reason.MEMORY, "b": Reason.CPU, "c": Reason.AGENT,
    }  # fmt: skip


def test_default_ranking_spreads_and_rankers_chain() -> None:
    pool = [Candidate("a", 4096, 4096, task_count=2), Candidate("b", 4096, 2048)]
    needs = TaskNeeds(cpu=0, memory=256)
    chosen = place(pool, needs).chosen
    assert chosen is not None and chosen.id == "b"
    binpacked = place(pool, needs, rankers=[least_memory]).chosen
    assert binpacked is not None and binpacked.id == "b"
    roomy = [Candidate("a", 4096, 4096), Candidate("b", 4096, 2048)]
    chosen = place(roomy, needs).chosen
    assert chosen is not None and chosen.id == "a"
    spread = [c.chosen.id for c in place_many(roomy, needs, 4) if c.chosen]
    assert sorted(spread) == ["a", "a", "b", "b"]


def spec(mode: NetworkMode, *containers: ContainerSpec, cpu: int | None = None,
         memory: int | None = None) -> TaskSpec:  # fmt: skip
    return TaskSpec("arn", "cluster", "fam", 1, mode, list(containers), cpu=cpu, memory=memory)


def test_needs_as_ecs_computes_them() -> None:
    a = ContainerSpec("a", "x", cpu=128, memory=512, memory_reservation=256,
                      port_mappings=[PortMapping(80, 8080)])  # fmt: skip
    b = ContainerSpec("b", "x", cpu=64, memory=300, port_mappings=[PortMapping(53, None, "udp")])
    bridge = task_needs(spec(NetworkMode.BRIDGE, a, b))
    assert (bridge.cpu, bridge.memory) == (192, 556)
    assert bridge.ports == ((8080, "tcp"),)
    host = task_needs(spec(NetworkMode.HOST, a, b))
    assert host.ports == ((80, "tcp"), (53, "udp"))
    awsvpc = task_needs(spec(NetworkMode.AWSVPC, a, b, cpu=1024, memory=2048))
    assert (awsvpc.cpu, awsvpc.memory, awsvpc.ports) == (1024, 2048, ())
    assert awsvpc.network_mode == "awsvpc"
