"""How an agent talks to the server.

The server never reaches into a host: the agent registers, heartbeats, waits for its
assignments and pushes what it observed. The embedded agent uses an in-process link
(services/ecs/agent_link.py); remote agents use the same calls over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from dockyard.core.rolecredentials import TemporaryCredentials
from dockyard.core.taskspec import Assignment, TaskStatus


class UnknownInstance(Exception):
    """The server does not know this container instance (its state was reset, or it never
    registered there): the agent registers again."""


@dataclass(slots=True)
class Registration:
    cluster: str
    cpu: int  # CPU units, 1024 per core
    memory: int  # MiB
    attributes: dict[str, str | None] = field(default_factory=dict)  # ecs.os-type, ...
    hostname: str = ""
    agent_version: str = ""
    # Set when the agent registered before (its data dir remembers): re-register in place.
    container_instance_arn: str | None = None
    # The addresses tasks on this host publish ports on (bridge/host modes).
    host_ip: str = "127.0.0.1"
    # Inside an EC2 instance: its instance identity document and the document's signature, as
    # the metadata service served them (RegisterContainerInstance's instanceIdentityDocument).
    identity_document: str | None = None
    identity_signature: str | None = None


@dataclass(slots=True)
class LogEvent:
    timestamp_ms: int
    message: str


class ServerLink(Protocol):
    async def register(self, registration: Registration) -> str:
        """Returns the container instance ARN."""
        ...

    async def heartbeat(self, instance_arn: str) -> None: ...

    async def assignments(self, instance_arn: str, wait: float) -> list[Assignment]:
        """Every task the server places on this instance that is not yet known STOPPED.
        Waits up to `wait` seconds for a change when nothing is new since the last call."""
        ...

    async def report(self, instance_arn: str, statuses: list[TaskStatus]) -> None: ...

    async def task_credentials(self, instance_arn: str, task_arn: str) -> TemporaryCredentials:
        """The task role credentials of `task_arn`, which runs on `instance_arn`; only that
        instance's agent may have them."""
        ...

    async def put_logs(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: list[LogEvent],
        create_group: bool,
    ) -> None: ...


def registration_body(r: Registration) -> dict[str, object]:
    """A registration as the JSON body of the HTTP agent protocol's register call."""
    return {
        "cluster": r.cluster,
        "cpu": r.cpu,
        "memory": r.memory,
        "attributes": r.attributes,
        "hostname": r.hostname,
        "agentVersion": r.agent_version,
        "containerInstanceArn": r.container_instance_arn,
        "hostIp": r.host_ip,
        "identityDocument": r.identity_document,
        "identitySignature": r.identity_signature,
    }
