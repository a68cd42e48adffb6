"""Feasibility filters: each answers why a candidate cannot take a task, or None when it can.

Filters run in order; a candidate is rejected by the first filter that objects, and the
position of that filter tells how close the candidate came. As in ECS, resources (CPU, memory,
ports) are checked before placement constraints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dockyard.placement.model import Candidate, Port, Reason, TaskNeeds

Verdict = tuple[Reason, str] | None
Filter = Callable[[Candidate, TaskNeeds], Verdict]


def active(c: Candidate, needs: TaskNeeds) -> Verdict:
    if c.status != "ACTIVE":
        return Reason.INACTIVE, f"container instance is {c.status}"
    return None


def agent_connected(c: Candidate, needs: TaskNeeds) -> Verdict:
    if not c.agent_connected:
        return Reason.AGENT, "the agent on this container instance is not connected"
    return None


def network_mode(c: Candidate, needs: TaskNeeds) -> Verdict:
    if c.network_modes is not None and needs.network_mode not in c.network_modes:
        return Reason.ATTRIBUTE, f"network mode {needs.network_mode} is not supported here"
    return None


def attributes(c: Candidate, needs: TaskNeeds) -> Verdict:
    for req in needs.requirements:
        if req.name not in c.attributes:
            return Reason.ATTRIBUTE, f"missing attribute {req.name}"
        if req.value is not None and c.attributes[req.name] != req.value:
            return Reason.ATTRIBUTE, f"attribute {req.name} is not {req.value}"
    return None


def cpu(c: Candidate, needs: TaskNeeds) -> Verdict:
    if needs.cpu > c.cpu:
        return Reason.CPU, f"needs {needs.cpu} CPU units, {c.cpu} remain"
    return None


def memory(c: Candidate, needs: TaskNeeds) -> Verdict:
    if needs.memory > c.memory:
        return Reason.MEMORY, f"needs {needs.memory} MiB, {c.memory} remain"
    return None


def ports(c: Candidate, needs: TaskNeeds) -> Verdict:
    taken = sorted(p for p in set(needs.ports) if p in c.used_ports)
    if taken:
        return Reason.PORTS, "ports in use: " + ", ".join(_port(p) for p in taken)
    if len(set(needs.ports)) != len(needs.ports):
        return Reason.PORTS, "the task binds the same host port twice"
    return None


def constraints(c: Candidate, needs: TaskNeeds) -> Verdict:
    """distinctInstance and memberOf: binding, unlike strategies."""
    facts = None
    for constraint in needs.constraints:
        if constraint.query is None:
            if c.groups.get(needs.group, 0) > 0:
                return Reason.ATTRIBUTE, (
                    f"distinctInstance: a task of group {needs.group} is already placed here"
                )
            continue
        if facts is None:
            facts = c.facts()
        if not constraint.query(facts):
            return Reason.ATTRIBUTE, f"does not match memberOf({constraint.query.text})"
    return None


def _port(p: Port) -> str:
    return f"{p[0]}/{p[1]}"


DEFAULT_FILTERS: Sequence[Filter] = (
    active,
    agent_connected,
    network_mode,
    attributes,
    cpu,
    memory,
    ports,
    constraints,
)
