"""Placement decisions per second: 1,000,000 tasks on 5,000 simulated container instances.

    .venv/bin/python benchmarks/placement.py [--tasks 1000000] [--instances 5000]

In process, no drivers, no API: the placement engine alone, as RunTask and the service
controller use it for many placements. The fleet has 5 availability zones and 3 instance types;
each task (128, 256 or 512 MiB, 128 CPU units) is placed with

    placementStrategy:    spread attribute:ecs.availability-zone, then binpack memory
    placementConstraints: memberOf(attribute:ecs.instance-type =~ m5.* or
                                   attribute:ecs.instance-type == c5.xlarge)

which leaves out the t3 instances (a third of the fleet). Prints placements/s and the p50/p99
time per decision, then checks the outcome: zones within one task of each other, no task on an
excluded instance, no instance over its memory or CPU.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dockyard.placement import (
    Candidate,
    Fleet,
    TaskNeeds,
    parse_constraints,
    parse_strategies,
)

ZONES = [f"us-east-1{z}" for z in "abcdf"]
TYPES = [("m5.4xlarge", 16384, 65536), ("c5.xlarge", 4096, 8192), ("t3.large", 2048, 8192)]
STRATEGY = [
    {"type": "spread", "field": "attribute:ecs.availability-zone"},
    {"type": "binpack", "field": "memory"},
]
CONSTRAINT = [
    {
        "type": "memberOf",
        "expression": "attribute:ecs.instance-type =~ m5.* or "
        "attribute:ecs.instance-type == c5.xlarge",
    }
]


def fleet(instances: int, scale: int) -> list[Candidate]:
    """`instances` hosts; capacity times `scale` so that a million tasks fit."""
    result = []
    for n in range(instances):
        kind, cpu, memory = TYPES[n % len(TYPES)]
        result.append(
            Candidate(
                id=f"arn:aws:ecs:us-east-1:000000000000:container-instance/bench/{n:08x}",
                cpu=cpu * scale,
                memory=memory * scale,
                attributes={
                    "ecs.availability-zone": ZONES[(n // len(TYPES)) % len(ZONES)],
                    "ecs.instance-type": kind,
                    "ecs.os-type": "linux",
                },
                ec2_instance_id=f"i-{n:017x}",
            )
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--instances", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    scale = max(1, -(-args.tasks * 512 // (args.instances * 2 // 3 * 8192)))
    candidates = fleet(args.instances, scale)
    base = TaskNeeds(
        cpu=128,
        memory=256,
        group="service:bench",
        constraints=parse_constraints(CONSTRAINT),
    )
    shapes = [replace(base, memory=m) for m in (128, 256, 512)]
    tasks = [shapes[rng.randrange(3)] for _ in range(args.tasks)]
    strategies = parse_strategies(STRATEGY)

    started = time.perf_counter()
    index = Fleet(candidates, base, strategies)
    built = time.perf_counter() - started

    timings = [0] * args.tasks
    placed = 0
    clock = time.perf_counter_ns
    started = time.perf_counter()
    for n, needs in enumerate(tasks):
        t0 = clock()
        chosen = index.place(needs)
        timings[n] = clock() - t0
        placed += chosen is not None
    elapsed = time.perf_counter() - started

    timings.sort()
    p50 = timings[len(timings) // 2] / 1000
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))] / 1000
    print(f"instances: {args.instances}  tasks: {args.tasks}  placed: {placed}")
    print(f"index built in {built * 1000:.0f} ms")
    print(f"placements/s: {args.tasks / elapsed:,.0f}  ({elapsed:.1f} s)")
    print(f"per decision: p50 {p50:.1f} us  p99 {p99:.1f} us  max {timings[-1] / 1000:.0f} us")

    # The outcome, checked.
    per_zone: dict[str | None, int] = {}
    for i, c in enumerate(candidates):
        on = index.task_count[i]
        kind = c.attributes["ecs.instance-type"]
        assert on == 0 or kind != "t3.large", f"a task landed on excluded {c.id}"
        assert index.memory[i] >= 0 and index.cpu[i] >= 0, f"{c.id} is overcommitted"
        zone = c.attributes["ecs.availability-zone"]
        per_zone[zone] = per_zone.get(zone, 0) + on
    spread = max(per_zone.values()) - min(per_zone.values())
    print(f"tasks per zone: {sorted(per_zone.values())} (spread {spread})")
    assert placed == args.tasks and spread <= 1


if __name__ == "__main__":
    main()
