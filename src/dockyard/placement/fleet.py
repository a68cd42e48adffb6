"""An incremental index for many placements on a large fleet, deciding exactly as the chain.

What never changes while tasks are placed (status, agent, network modes, required attributes,
memberOf expressions over static subjects) is checked once per instance. Instances are then
kept in buckets by the value of the leading spread attribute (one bucket when there is none),
each bucket sorted by the per-instance strategies (binpack cpu/memory, spread by instance) and
the id. A decision takes the buckets holding the fewest tasks of the group, bisects to the
first instance with enough memory (or CPU) and walks on to the first that fits; placing a task
moves one instance within its bucket and bumps one bucket's count.

Chains with a random step or an attribute spread after the first step go through the plain
chain instead (`Fleet.supports`).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from dockyard.placement.filters import active, agent_connected, attributes, network_mode
from dockyard.placement.model import Candidate, Port, TaskNeeds
from dockyard.placement.rules import Constraint, Strategy, StrategyType

Key = tuple[int, ...]
_STATIC_FILTERS = (active, agent_connected, network_mode, attributes)


class Fleet:
    @staticmethod
    def supports(strategies: Sequence[Strategy]) -> bool:
        if not strategies:
            return False  # no strategy: the least loaded instance, ranked by the chain's rankers
        if any(s.type == StrategyType.RANDOM for s in strategies):
            return False
        spreads = [n for n, s in enumerate(strategies) if s.attribute is not None]
        return spreads in ([], [0])

    def __init__(
        self, candidates: Sequence[Candidate], needs: TaskNeeds, strategies: Sequence[Strategy]
    ) -> None:
        if not self.supports(strategies):
            raise ValueError("this strategy chain is not indexable")
        self._base = list(candidates)
        self.group = needs.group
        self.ids = [c.id for c in self._base]
        self.cpu = [c.cpu for c in self._base]
        self.memory = [c.memory for c in self._base]
        self.ports: list[set[Port]] = [set(c.used_ports) for c in self._base]
        self.groups: list[dict[str, int]] = [dict(c.groups) for c in self._base]
        self.task_count = [c.task_count for c in self._base]
        self._constraints = needs.constraints
        self._dynamic: tuple[Constraint, ...] = tuple(
            c for c in needs.constraints if c.query is None or not c.query.static
        )
        static = [c for c in needs.constraints if c.query is not None and c.query.static]
        strategies = list(strategies)
        self.attribute = strategies[0].attribute if strategies else None
        self.ranking = strategies[1:] if self.attribute is not None else strategies
        first = self.ranking[0] if self.ranking else None
        self._bisect_on = (
            first.field if first is not None and first.type == StrategyType.BINPACK else None
        )
        # Ties go to the lowest id: the id's rank closes every key (and names the instance).
        by_id = sorted(range(len(self.ids)), key=lambda i: self.ids[i])
        self._rank = [0] * len(self.ids)
        for rank, i in enumerate(by_id):
            self._rank[i] = rank
        self._of_rank = by_id
        self.value: list[str | None] = [
            c.attributes.get(self.attribute) if self.attribute is not None else None
            for c in self._base
        ]
        self.counts: dict[str | None, int] = {}
        self.buckets: dict[str | None, list[Key]] = {}
        self.keys: list[Key] = [()] * len(self.ids)
        for i, c in enumerate(self._base):
            v = self.value[i]
            self.counts[v] = self.counts.get(v, 0) + self.groups[i].get(self.group, 0)
            if self._statically_fits(c, needs, static):
                self.keys[i] = self._key(i)
                self.buckets.setdefault(v, []).append(self.keys[i])
        for bucket in self.buckets.values():
            bucket.sort()

    def _statically_fits(self, c: Candidate, needs: TaskNeeds, static: list[Constraint]) -> bool:
        if any(f(c, needs) is not None for f in _STATIC_FILTERS):
            return False
        if static:
            facts = c.facts()
            return all(con.query is not None and con.query(facts) for con in static)
        return True

    def _key(self, i: int) -> Key:
        parts: list[int] = []
        for s in self.ranking:
            if s.type == StrategyType.BINPACK:
                parts.append(self.cpu[i] if s.field == "cpu" else self.memory[i])
            else:
                parts.append(self.groups[i].get(self.group, 0))
        parts.append(self._rank[i])
        return tuple(parts)

    def _fits(self, i: int, needs: TaskNeeds) -> bool:
        if self.cpu[i] < needs.cpu or self.memory[i] < needs.memory:
            return False
        if needs.ports and not self.ports[i].isdisjoint(needs.ports):
            return False
        if self._dynamic:
            distinct = any(c.query is None for c in self._dynamic)
            if distinct and self.groups[i].get(needs.group, 0) > 0:
                return False
            queries = [c.query for c in self._dynamic if c.query is not None]
            if queries:
                facts = self.candidate(i).facts()
                return all(q(facts) for q in queries)
        return True

    def _best_in(self, bucket: list[Key], needs: TaskNeeds) -> int | None:
        start = 0
        if self._bisect_on == "memory":
            start = bisect.bisect_left(bucket, (needs.memory,))
        elif self._bisect_on == "cpu":
            start = bisect.bisect_left(bucket, (needs.cpu,))
        for pos in range(start, len(bucket)):
            i = self._of_rank[bucket[pos][-1]]
            if self._fits(i, needs):
                return i
        return None

    def place(self, needs: TaskNeeds) -> int | None:
        """Place one task (same group and constraints as the fleet was built for): the index
        of the chosen instance, or None when nothing fits."""
        if len(set(needs.ports)) != len(needs.ports):
            return None
        if self.attribute is None:
            tiers = [list(self.buckets)]
        else:
            order = sorted(self.buckets, key=lambda v: self.counts[v])
            tiers = []
            for v in order:
                if tiers and self.counts[tiers[-1][0]] == self.counts[v]:
                    tiers[-1].append(v)
                else:
                    tiers.append([v])
        for tier in tiers:
            chosen: int | None = None
            for v in tier:
                i = self._best_in(self.buckets[v], needs)
                if i is not None and (chosen is None or self.keys[i] < self.keys[chosen]):
                    chosen = i
            if chosen is not None:
                self._take(chosen, needs)
                return chosen
        return None

    def _take(self, i: int, needs: TaskNeeds) -> None:
        bucket = self.buckets[self.value[i]]
        del bucket[bisect.bisect_left(bucket, self.keys[i])]
        self.cpu[i] -= needs.cpu
        self.memory[i] -= needs.memory
        self.ports[i].update(needs.ports)
        groups = self.groups[i]
        groups[self.group] = groups.get(self.group, 0) + 1
        self.task_count[i] += 1
        self.counts[self.value[i]] += 1
        self.keys[i] = self._key(i)
        bisect.insort(bucket, self.keys[i])

    def candidate(self, i: int) -> Candidate:
        """Instance `i` as it stands now."""
        return replace(
            self._base[i],
            cpu=self.cpu[i],
            memory=self.memory[i],
            used_ports=frozenset(self.ports[i]),
            groups=dict(self.groups[i]),
            task_count=self.task_count[i],
        )

    def candidates(self) -> list[Candidate]:
        return [self.candidate(i) for i in range(len(self.ids))]
