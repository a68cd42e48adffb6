"""An instance as stored (kind `ec2.instance`): what it was launched with, its primary network
interface (an address of its subnet, a MAC, a private DNS name) and its state, with the
reason EC2 words for the last change. User data is kept base64 as given; the kind is sealed
at rest (user data often holds secrets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, ClassVar

from dockyard.services.ec2.network.model import Resource


class InstanceState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SHUTTING_DOWN = "shutting-down"
    TERMINATED = "terminated"


class StateCode(IntEnum):
    """The `InstanceState.Code` of each state (the low byte EC2 documents)."""

    pending = 0
    running = 16
    shutting_down = 32
    terminated = 48
    stopping = 64
    stopped = 80


def state_code(state: InstanceState) -> int:
    return int(StateCode[state.value.replace("-", "_")])


class Reason(StrEnum):
    """`StateReason.Code` values EC2 writes."""

    PENDING = "pending"
    USER_SHUTDOWN = "Client.UserInitiatedShutdown"
    INSTANCE_SHUTDOWN = "Client.InstanceInitiatedShutdown"
    INTERNAL_ERROR = "Server.InternalError"  # the machine could not boot


REASON_MESSAGES = {
    Reason.PENDING: "pending",
    Reason.USER_SHUTDOWN: "Client.UserInitiatedShutdown: User initiated shutdown",
    Reason.INSTANCE_SHUTDOWN: "Client.InstanceInitiatedShutdown: Instance initiated shutdown",
    Reason.INTERNAL_ERROR: "Server.InternalError: Internal error on launch",
}


@dataclass(slots=True)
class Instance(Resource):
    KIND: ClassVar[str] = "ec2.instance"
    reservation_id: str = ""
    image_id: str = ""
    instance_type: str = ""
    subnet_id: str = ""
    vpc_id: str = ""
    zone: str = ""
    private_ip: str = ""
    mac: str = ""
    interface_id: str = ""
    group_ids: list[str] = field(default_factory=list)
    key_name: str | None = None
    user_data: str | None = None  # base64, as given
    iam_profile: str | None = None  # the instance profile's ARN
    iam_profile_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # MetadataOptions
    template_id: str | None = None
    template_version: str | None = None
    launch_index: int = 0
    launch_time: float = 0.0  # epoch seconds
    state: InstanceState = InstanceState.PENDING
    state_reason: Reason | None = Reason.PENDING
    transition_reason: str = ""
    reason_detail: str = ""  # what went wrong, after the reason's message (a boot failure)
    changed: float = 0.0  # when the state last changed (terminated ones are kept an hour)
    requester: str = ""
    # RebootInstances asks (`reboots` goes up); the controller reboots the host and catches
    # `rebooted` up.
    reboots: int = 0
    rebooted: int = 0

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Instance:
        record = cls(**body)
        record.state = InstanceState(record.state)
        record.state_reason = Reason(record.state_reason) if record.state_reason else None
        return record
