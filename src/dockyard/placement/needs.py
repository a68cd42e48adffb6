"""What a task needs from a host, as ECS computes it."""

from __future__ import annotations

from dockyard.core.taskspec import ContainerSpec, NetworkMode, TaskSpec
from dockyard.placement.model import Port, Requirement, TaskNeeds


def container_memory(c: ContainerSpec) -> int:
    """ECS reserves the soft limit when a container has one, else the hard limit."""
    if c.memory_reservation is not None:
        return c.memory_reservation
    return c.memory or 0


def host_ports(network_mode: NetworkMode, containers: list[ContainerSpec]) -> tuple[Port, ...]:
    """Host ports a task binds statically. awsvpc tasks have their own address (no host port),
    bridge mappings without a host port get a dynamic one, host mode binds the container port."""
    if network_mode in (NetworkMode.AWSVPC, NetworkMode.NONE):
        return ()
    result: list[Port] = []
    for c in containers:
        for m in c.port_mappings:
            port = m.container_port if network_mode == NetworkMode.HOST else m.host_port
            if port:
                result.append((port, m.protocol))
    return tuple(result)


def task_needs(spec: TaskSpec, requirements: tuple[Requirement, ...] = ()) -> TaskNeeds:
    """Task-level CPU and memory when set; otherwise the sums over the containers."""
    cpu = spec.cpu if spec.cpu is not None else sum(c.cpu for c in spec.containers)
    memory = spec.memory
    if memory is None:
        memory = sum(container_memory(c) for c in spec.containers)
    return TaskNeeds(
        cpu=cpu,
        memory=memory,
        ports=host_ports(spec.network_mode, spec.containers),
        network_mode=str(spec.network_mode),
        requirements=requirements,
    )
