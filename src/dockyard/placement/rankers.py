"""Rankers: among feasible candidates, which is best. Each scores a candidate (higher is
better); a chain compares candidates score by score, the first ranker deciding first.
Placement strategies (spread, binpack, random) come as more rankers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dockyard.placement.model import Candidate, TaskNeeds

Ranker = Callable[[Candidate, TaskNeeds], float]


def fewest_tasks(c: Candidate, needs: TaskNeeds) -> float:
    """Spread: prefer the instance running the fewest tasks."""
    return -float(c.task_count)


def most_memory(c: Candidate, needs: TaskNeeds) -> float:
    return float(c.memory)


def least_memory(c: Candidate, needs: TaskNeeds) -> float:
    """Binpack on memory: prefer the instance left with the least memory."""
    return -float(c.memory)


def least_cpu(c: Candidate, needs: TaskNeeds) -> float:
    return -float(c.cpu)


DEFAULT_RANKERS: Sequence[Ranker] = (fewest_tasks, most_memory)


def best(candidates: Sequence[Candidate], needs: TaskNeeds, rankers: Sequence[Ranker]) -> Candidate:
    """The best candidate; ties go to the lowest id, so placement is deterministic."""

    def key(c: Candidate) -> tuple[tuple[float, ...], str]:
        return tuple(-r(c, needs) for r in rankers), c.id

    return min(candidates, key=key)
