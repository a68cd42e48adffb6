"""Choosing where a request goes: a target group of a weighted forward, then a target of the
group by its algorithm (round robin, least outstanding requests, weighted random), honouring
slow start and stickiness."""

from __future__ import annotations

import random
from collections.abc import Sequence

from dockyard.dataplane.config import TargetConfig, TargetGroupConfig
from dockyard.dataplane.metrics import GroupCounters


class GroupRuntime:
    """A target group as the data plane runs it; survives configuration changes so that
    in-flight counts and round-robin positions carry over."""

    def __init__(self, config: TargetGroupConfig) -> None:
        self.config = config
        self.inflight: dict[str, int] = {}
        self.counters = GroupCounters()
        self._rr = 0
        self.by_key: dict[str, TargetConfig] = {}
        self.routable: list[TargetConfig] = []
        self.update(config)

    def update(self, config: TargetGroupConfig) -> None:
        self.config = config
        self.by_key = {t.key: t for t in config.targets}
        self.routable = [t for t in config.targets if t.routable]
        self.app_cookie = config.app_cookie_name.encode()
        self.needs_time = config.slow_start > 0  # pick() looks at `now` only in slow start
        # Fail open, as ELB does: when every registered (not draining) target failed its
        # health checks, requests go to all of them. No target, or targets still `initial`
        # (never checked), or all draining: nothing to route to (503).
        self.failing_open = False
        if not self.routable:
            live = [t for t in config.targets if t.state != "draining"]
            if live and all(t.state == "unhealthy" for t in live):
                self.routable = live
                self.failing_open = True

    def outstanding(self, key: str) -> int:
        return self.inflight.get(key, 0)

    def acquire(self, key: str) -> None:
        self.inflight[key] = self.inflight.get(key, 0) + 1

    def release(self, key: str) -> None:
        left = self.inflight.get(key, 0) - 1
        if left > 0:
            self.inflight[key] = left
        else:
            self.inflight.pop(key, None)

    def sticky(self, key: str) -> TargetConfig | None:
        target = self.by_key.get(key)
        if target is None:
            return None
        if target.routable or (self.failing_open and target.state == "unhealthy"):
            return target
        return None

    def _warm(self, target: TargetConfig, now: float) -> float:
        """The share of its traffic a target in slow start gets (1.0 when warm)."""
        window = self.config.slow_start
        if window <= 0 or target.healthy_since is None:
            return 1.0
        elapsed = now - target.healthy_since
        if elapsed >= window or len(self.routable) < 2:
            return 1.0
        return max(0.05, elapsed / window)

    def pick(self, now: float) -> TargetConfig | None:
        targets = self.routable
        n = len(targets)
        if n == 0:
            return None
        if n == 1:
            return targets[0]
        algorithm = self.config.algorithm
        if algorithm == "least_outstanding_requests":
            start = self._rr % n
            self._rr += 1
            best = targets[start]
            best_count = self.inflight.get(best.key, 0)
            for i in range(1, n):
                t = targets[(start + i) % n]
                count = self.inflight.get(t.key, 0)
                if count < best_count:
                    best, best_count = t, count
            return best
        if algorithm == "weighted_random":
            weights = [self._warm(t, now) for t in targets]
            return random.choices(targets, weights)[0]
        slow = self.config.slow_start > 0
        for _ in range(n):
            t = targets[self._rr % n]
            self._rr += 1
            if not slow or random.random() < self._warm(t, now):
                return t
        return targets[self._rr % n]


class WeightedChoice:
    """Smooth weighted round robin over the target groups of a forward action: over any
    window of sum(weights) requests each group gets exactly its share."""

    def __init__(self, groups: Sequence[tuple[str, int]]) -> None:
        self.groups = [(arn, w) for arn, w in groups if w > 0]
        self.total = sum(w for _, w in self.groups)
        self.current = [0] * len(self.groups)
        self._single = [self.groups[0][0]] if len(self.groups) == 1 else None

    def order(self) -> list[str]:
        """Target group ARNs to try: the chosen one first, then the others by weight."""
        if self._single is not None:
            return self._single  # callers that reorder copy first
        if not self.groups:
            return []  # every weight is 0: no group takes traffic (503)
        best = 0
        for i, (_, w) in enumerate(self.groups):
            self.current[i] += w
            if self.current[i] > self.current[best]:
                best = i
        self.current[best] -= self.total
        chosen = self.groups[best][0]
        rest = sorted((g for g in self.groups if g[0] != chosen), key=lambda g: -g[1])
        return [chosen, *(arn for arn, _ in rest)]
