"""Placing tasks: filter the candidates, rank the feasible ones, pick the best."""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.placement.filters import DEFAULT_FILTERS, Filter
from dockyard.placement.model import Candidate, Placement, Rejection, TaskNeeds
from dockyard.placement.rankers import DEFAULT_RANKERS, Ranker, best


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
) -> Placement:
    feasible: list[Candidate] = []
    rejections: list[Rejection] = []
    for c in candidates:
        rejection = check(c, needs, filters)
        if rejection is None:
            feasible.append(c)
        else:
            rejections.append(rejection)
    chosen = best(feasible, needs, rankers) if feasible else None
    return Placement(chosen, tuple(rejections))


def place_many(
    candidates: Sequence[Candidate],
    needs: TaskNeeds,
    count: int,
    filters: Sequence[Filter] = DEFAULT_FILTERS,
    rankers: Sequence[Ranker] = DEFAULT_RANKERS,
) -> list[Placement]:
    """`count` placements of the same task, each seeing what the previous ones took."""
    pool = {c.id: c for c in candidates}
    order = [c.id for c in candidates]
    result: list[Placement] = []
    for _ in range(count):
        placement = place([pool[i] for i in order], needs, filters, rankers)
        if placement.chosen is not None:
            pool[placement.chosen.id] = placement.chosen.take(needs)
        result.append(placement)
    return result
