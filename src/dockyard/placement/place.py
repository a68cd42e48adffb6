"""Placing tasks: filter the candidates, rank the feasible ones, pick the best.

With placement strategies, the feasible candidates go through the strategy chain (chain.py);
without, the built-in rankers pick the least loaded instance. Many placements of one task on a
large fleet go through the incremental index (fleet.py), which decides exactly as the chain.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from dockyard.placement.chain import choose
from dockyard.placement.filters import DEFAULT_FILTERS, Filter
from dockyard.placement.fleet import Fleet
from dockyard.placement.model import Candidate, Placement, Rejection, TaskNeeds
from dockyard.placement.rankers import DEFAULT_RANKERS, Ranker, best
from dockyard.placement.rules import Strategy

# From this many candidates on, place_many keeps an index instead of rescanning the fleet.
INDEX_THRESHOLD = 64


def check(
    candidate: Candidate, needs: TaskNeeds, filters: Sequence[Filter] = DEFAULT_FILTERS
) -> Rejection | None:
    for stage, f in enumerate(filters):
        verdict = f(candidate, needs)
        if verdict is not None:
            reason, detail = verdict
            return Rejection(candidate.id, reason, detail, stage)
    return None


def place(
    candidates: Sequence[Candidate],
    needs: TaskNeeds,
    filters: Sequence[Filter] = DEFAULT_FILTERS,
    rankers: Sequence[Ranker] = DEFAULT_RANKERS,
    strategies: Sequence[Strategy] = (),
    rng: random.Random | None = None,
) -> Placement:
    feasible: list[Candidate] = []
    rejections: list[Rejection] = []
    for c in candidates:
        rejection = check(c, needs, filters)
        if rejection is None:
            feasible.append(c)
        else:
            rejections.append(rejection)
    if not feasible:
        return Placement(None, tuple(rejections))
    if strategies:
        chosen = choose(feasible, candidates, needs, strategies, rng or random.Random())
    else:
        chosen = best(feasible, needs, rankers)
    return Placement(chosen, tuple(rejections))


def place_many(
    candidates: Sequence[Candidate],
    needs: TaskNeeds,
    count: int,
    filters: Sequence[Filter] = DEFAULT_FILTERS,
    rankers: Sequence[Ranker] = DEFAULT_RANKERS,
    strategies: Sequence[Strategy] = (),
    rng: random.Random | None = None,
) -> list[Placement]:
    """`count` placements of the same task, each seeing what the previous ones took."""
    rng = rng or random.Random()
    if (
        strategies
        and filters is DEFAULT_FILTERS
        and len(candidates) >= INDEX_THRESHOLD
        and Fleet.supports(strategies)
    ):
        return _place_indexed(candidates, needs, count, strategies)
    pool = {c.id: c for c in candidates}
    order = [c.id for c in candidates]
    result: list[Placement] = []
    for _ in range(count):
        placement = place([pool[i] for i in order], needs, filters, rankers, strategies, rng)
        if placement.chosen is not None:
            pool[placement.chosen.id] = placement.chosen.take(needs)
        result.append(placement)
    return result


def _place_indexed(
    candidates: Sequence[Candidate], needs: TaskNeeds, count: int, strategies: Sequence[Strategy]
) -> list[Placement]:
    fleet = Fleet(candidates, needs, strategies)
    result: list[Placement] = []
    for _ in range(count):
        index = fleet.place(needs)
        if index is None:
            # Nothing fits: the full pass names every candidate's reason.
            result.append(place(fleet.candidates(), needs, strategies=strategies))
        else:
            result.append(Placement(fleet.candidate(index)))
    return result
