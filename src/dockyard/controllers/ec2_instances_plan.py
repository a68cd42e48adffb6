"""What the EC2 instance controller does for one instance, from its recorded state and what
the machine shows (whether a host exists and whether its process tree is alive). Pure."""

from __future__ import annotations

from enum import StrEnum

from dockyard.services.ec2.instances.model import InstanceState


class Step(StrEnum):
    NOTHING = "nothing"
    BOOT = "boot"  # boot the host, then record `running` once it is up
    HALT = "halt"  # halt the host, then record `stopped`
    DESTROY = "destroy"  # destroy the host, then record `terminated`
    DIED = "died"  # the host's process tree ended on its own: record `stopped`
    REMOVE = "remove"  # a host with no live instance: destroy it, record nothing
    REBOOT = "reboot"  # RebootInstances asked: halt and boot the host, it stays `running`


def plan(state: InstanceState | None, exists: bool, alive: bool, reboot: bool = False) -> Step:
    """`state` None: no instance record names this host; `reboot`: a reboot was asked for
    since the host last booted."""
    if state is None:
        return Step.REMOVE if exists else Step.NOTHING
    match state:
        case InstanceState.PENDING:
            return Step.BOOT
        case InstanceState.RUNNING:
            if not alive:
                return Step.DIED
            return Step.REBOOT if reboot else Step.NOTHING
        case InstanceState.STOPPING:
            return Step.HALT
        case InstanceState.STOPPED:
            return Step.HALT if alive else Step.NOTHING
        case InstanceState.SHUTTING_DOWN:
            return Step.DESTROY
        case InstanceState.TERMINATED:
            return Step.REMOVE if exists else Step.NOTHING
