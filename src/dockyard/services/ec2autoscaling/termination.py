"""Which instances a scale-in terminates, as AWS chooses them (pure).

Whatever the termination policies, AWS first picks the Availability Zone with the most
instances that has at least one instance not protected from scale in, then applies the
group's policies in order within it, each narrowing the candidates to those it ranks first,
until one instance is left. `Default` is `OldestLaunchTemplate` then
`ClosestToNextInstanceHour` (closest to the next billing hour of its launch time); a tie
left at the end goes to the lowest instance id (AWS picks at random). Protected instances
are never chosen, so a scale-in may choose fewer than asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from dockyard.services.ec2autoscaling.model import Group, GroupInstance, TerminationPolicy

HOUR = 3600.0

Rank = Callable[[GroupInstance], tuple[float, ...]]


def _version(value: str) -> float:
    return float(value) if value.isdigit() else float("inf")  # $Default / $Latest: newest


def _oldest_template(group: Group) -> Rank:
    def rank(inst: GroupInstance) -> tuple[float, ...]:
        same = (inst.template_id is not None and inst.template_id == group.template_id) or (
            inst.template_name is not None and inst.template_name == group.template_name
        )
        # Instances of another (noncurrent) launch template first, then the oldest version.
        return (1.0 if same else 0.0, _version(inst.template_version) if same else 0.0)

    return rank


def _closest_to_hour(now: float) -> Rank:
    def rank(inst: GroupInstance) -> tuple[float, ...]:
        return (HOUR - (max(0.0, now - inst.launched) % HOUR),)

    return rank


def _ranks(group: Group, policy: str, now: float) -> list[Rank]:
    if policy == TerminationPolicy.OLDEST_LAUNCH_TEMPLATE:
        return [_oldest_template(group)]
    if policy == TerminationPolicy.CLOSEST_TO_NEXT_INSTANCE_HOUR:
        return [_closest_to_hour(now)]
    if policy == TerminationPolicy.NEWEST_INSTANCE:
        return [lambda i: (-i.launched,)]
    if policy == TerminationPolicy.OLDEST_INSTANCE:
        return [lambda i: (i.launched,)]
    if policy == TerminationPolicy.DEFAULT:
        return [_oldest_template(group), _closest_to_hour(now)]
    # OldestLaunchConfiguration and AllocationStrategy do not tell apart instances of a
    # group that launches from one launch template.
    return []


def _narrow(candidates: list[GroupInstance], rank: Rank) -> list[GroupInstance]:
    best = min(rank(i) for i in candidates)
    return [i for i in candidates if rank(i) == best]


def choose_one(group: Group, candidates: Sequence[GroupInstance], now: float,
               counts: Counter[str]) -> GroupInstance | None:  # fmt: skip
    """The next instance to terminate among `candidates`; `counts` are the instances per
    zone that the balance is judged on."""
    free = [i for i in candidates if not i.protected]
    if not free:
        return None
    zones = {i.zone for i in free}
    top = max(counts[z] for z in zones)
    pool = sorted((i for i in free if counts[i.zone] == top), key=lambda i: i.instance_id)
    policies = list(group.termination_policies or [TerminationPolicy.DEFAULT.value])
    if TerminationPolicy.DEFAULT.value not in policies:
        policies.append(TerminationPolicy.DEFAULT.value)  # AWS ends with the default
    for policy in policies:
        for rank in _ranks(group, policy, now):
            if len(pool) == 1:
                return pool[0]
            pool = _narrow(pool, rank)
    return pool[0]


def choose(group: Group, candidates: Sequence[GroupInstance], count: int,
           now: float) -> list[GroupInstance]:  # fmt: skip
    """Up to `count` instances of `candidates` to terminate, in the order AWS picks them;
    the zone balance counts every candidate, protected or not."""
    left = list(candidates)
    counts: Counter[str] = Counter(i.zone for i in left)
    out: list[GroupInstance] = []
    while len(out) < count:
        victim = choose_one(group, left, now, counts)
        if victim is None:
            break
        out.append(victim)
        left.remove(victim)
        counts[victim.zone] -= 1
    return out
