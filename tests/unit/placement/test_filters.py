"""Feasibility filters: which candidate is refused, and with which ECS reason."""

from __future__ import annotations

import pytest

from dockyard.placement import Candidate, Reason, Requirement, TaskNeeds, check

HOST = Candidate(
    id="i-1",
    cpu=1024,
    memory=2048,
    used_ports=frozenset({(8080, "tcp")}),
    attributes={"ecs.os-type": "linux", "size": "small"},
    network_modes=frozenset({"bridge", "host"}),
)


def needs(**kwargs: object) -> TaskNeeds:
    base: dict[str, object] = {"cpu": 256, "memory": 512}
    base.update(kwargs)
    return TaskNeeds(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("candidate", "task", "reason"),
    [
        (HOST, needs(), None),
        (HOST, needs(cpu=1024, memory=2048), None),
        (HOST, needs(cpu=1025), Reason.CPU),
        (HOST, needs(memory=2049), Reason.MEMORY),
        (HOST, needs(ports=((8080, "tcp"),)), Reason.PORTS),
        (HOST, needs(ports=((8080, "udp"),)), None),
        (HOST, needs(ports=((9000, "tcp"), (9000, "tcp"))), Reason.PORTS),
        (HOST, needs(network_mode="awsvpc"), Reason.ATTRIBUTE),
        (HOST, needs(requirements=(Requirement("ecs.os-type", "linux"),)), None),
        (HOST, needs(requirements=(Requirement("ecs.os-type", "windows"),)), Reason.ATTRIBUTE),
        (HOST, needs(requirements=(Requirement("gpu"),)), Reason.ATTRIBUTE),
        (HOST, needs(requirements=(Requirement("size"),)), None),
        (Candidate("i-2", 4096, 4096, agent_connected=False), needs(), Reason.AGENT),
        (Candidate("i-3", 4096, 4096, status="DRAINING"), needs(), Reason.INACTIVE),
        # Without declared network modes, every mode is fine.
        (Candidate("i-4", 4096, 4096), needs(network_mode="awsvpc"), None),
    ],
)
def test_filters(candidate: Candidate, task: TaskNeeds, reason: Reason | None) -> None:
    rejection = check(candidate, task)
    assert (rejection.reason if rejection else None) == reason
    if rejection:
        assert rejection.candidate_id == candidate.id
        assert rejection.detail


def test_reasons_are_ecs_failure_reasons() -> None:
    assert [str(r) for r in (Reason.CPU, Reason.MEMORY, Reason.PORTS)] == [
        "RESOURCE:CPU", "RESOURCE:MEMORY", "RESOURCE:PORTS"
    ]  # fmt: skip
    assert str(Reason.ATTRIBUTE) == "ATTRIBUTE"
    assert str(Reason.AGENT) == "AGENT"
