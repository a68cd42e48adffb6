"""A chain of placement strategies over the feasible candidates, as ECS applies them.

Each strategy keeps the candidates it likes best and passes them to the next: binpack keeps
those left with the least CPU or memory, spread keeps those whose instance (or attribute
value) holds the fewest tasks of the group, random picks one. What remains at the end is a tie;
the lowest id wins it, so placement is repeatable.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from dockyard.placement.model import Candidate, TaskNeeds
from dockyard.placement.rules import Strategy, StrategyType


def attribute_value(c: Candidate, name: str) -> str | None:
    """The value spread groups an instance by; instances without the attribute group together."""
    return c.attributes.get(name)


def spread_counts(everyone: Sequence[Candidate], name: str, group: str) -> dict[str | None, int]:
    """Tasks of `group` per value of attribute `name`, over every instance (feasible or not)."""
    counts: dict[str | None, int] = {}
    for c in everyone:
        value = attribute_value(c, name)
        counts[value] = counts.get(value, 0) + c.groups.get(group, 0)
    return counts


def _keep_least(pool: list[Candidate], key: Callable[[Candidate], int]) -> list[Candidate]:
    least = min(key(c) for c in pool)
    return [c for c in pool if key(c) == least]


def _bucket_count(counts: dict[str | None, int], name: str) -> Callable[[Candidate], int]:
    return lambda c: counts[attribute_value(c, name)]


def choose(
    feasible: Sequence[Candidate],
    everyone: Sequence[Candidate],
    needs: TaskNeeds,
    strategies: Sequence[Strategy],
    rng: random.Random,
) -> Candidate:
    pool = list(feasible)
    group = needs.group
    for s in strategies:
        if len(pool) == 1:
            break
        if s.type == StrategyType.RANDOM:
            return rng.choice(sorted(pool, key=lambda c: c.id))
        if s.type == StrategyType.BINPACK:
            if s.field == "cpu":
                pool = _keep_least(pool, lambda c: c.cpu - needs.cpu)
            else:
                pool = _keep_least(pool, lambda c: c.memory - needs.memory)
        elif s.attribute is None:
            pool = _keep_least(pool, lambda c: c.groups.get(group, 0))
        else:
            counts = spread_counts(everyone, s.attribute, group)
            pool = _keep_least(pool, _bucket_count(counts, s.attribute))
    return min(pool, key=lambda c: c.id)
