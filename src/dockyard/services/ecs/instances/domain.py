"""ECS container instances: the hosts an agent registered, and whether it is connected."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.core.hosts import IdentityVerifier
from dockyard.core.ids import arn, arn_resource, is_arn, new_id
from dockyard.core.scope import Scope
from dockyard.services.ecs.clusters.domain import cluster_name
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.state import EcsDomain
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

KIND = "ecs.container_instance"

# Statuses a registered instance can be in; INACTIVE once deregistered.
LISTABLE_STATUSES = ("ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED")
REGISTERED_STATUSES = ("ACTIVE", "DRAINING")

# Drivers advertise the network modes they can give tasks as attributes
# `dockyard.network-mode.<mode>`; an instance advertising none is assumed to support all.
NETWORK_MODE_PREFIX = "dockyard.network-mode."


class InstanceStatus(StrEnum):
    """A container instance's status."""

    ACTIVE = "ACTIVE"
    DRAINING = "DRAINING"
    REGISTERING = "REGISTERING"
    DEREGISTERING = "DEREGISTERING"
    REGISTRATION_FAILED = "REGISTRATION_FAILED"
    INACTIVE = "INACTIVE"


@dataclass(slots=True)
class ContainerInstance:
    arn: str
    cluster_arn: str
    ec2_instance_id: str
    cpu: int  # registered CPU units
    memory: int  # registered MiB
    reserved_ports: list[int] = field(default_factory=list)  # registered PORTS (tcp)
    reserved_udp_ports: list[int] = field(default_factory=list)
    attributes: dict[str, str | None] = field(default_factory=dict)
    status: str = "ACTIVE"
    status_reason: str | None = None
    agent_connected: bool = False
    agent_version: str = ""
    agent_hash: str = ""
    docker_version: str = ""
    hostname: str = ""
    host_ip: str = "127.0.0.1"
    version: int = 1
    registered_at: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)
    capacity_provider_name: str | None = None
    # Capacity the server manages itself: where FARGATE tasks run (the embedded agent's host).
    managed: bool = False
    health_changed_at: float = 0.0
    deregistered_at: float | None = None  # clock time it became INACTIVE

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def network_modes(self) -> frozenset[str] | None:
        modes = frozenset(
            name.removeprefix(NETWORK_MODE_PREFIX)
            for name in self.attributes
            if name.startswith(NETWORK_MODE_PREFIX)
        )
        return modes or None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def instance_arn(scope: Scope, cluster: str, instance_id: str) -> str:
    return arn("ecs", scope.region, scope.account_id, f"container-instance/{cluster}/{instance_id}")


class Instances(EcsDomain):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_arn: dict[str, ContainerInstance] = {}
        # Checks instance identity documents against EC2 (set by the composition root when
        # the EC2 service runs; None: documents are taken as given).
        self.identity_verifier: IdentityVerifier | None = None

    def load(self) -> None:
        self.by_arn = {key: ContainerInstance(**body) for key, body in self.store.load(KIND)}
        # No agent is connected to a server that just started; agents reconnect by heartbeat.
        for instance in self.by_arn.values():
            instance.agent_connected = False
            if instance.status == InstanceStatus.INACTIVE and instance.deregistered_at is None:
                instance.deregistered_at = self.clock.now()  # deregistered before it was kept
                self.save(instance)

    def reset(self) -> None:
        self.by_arn.clear()

    def save(self, instance: ContainerInstance) -> None:
        put_record(self.store, KIND, instance.arn, instance, lambda b: ContainerInstance(**b))
        self.by_arn[instance.arn] = instance

    def register(
        self,
        scope: Scope,
        cluster_arn: str,
        *,
        cpu: int,
        memory: int,
        existing_arn: str | None = None,
        **fields: Any,
    ) -> ContainerInstance:
        """A new container instance, or the one `existing_arn` names re-registered in place."""
        now = self.clock.now()
        current = self.by_arn.get(existing_arn) if existing_arn else None
        if current is not None and current.status != InstanceStatus.INACTIVE:
            current.cpu, current.memory = cpu, memory
            for name, value in fields.items():
                setattr(current, name, value)
            current.version += 1
            self.save(current)
            log.info("container instance %s re-registered", current.arn, extra={"arn": current.arn})
            return current
        if existing_arn:
            log.info(
                "container instance %s is unknown or deregistered; registering a new one",
                existing_arn,
            )
        instance_id = new_id()
        fields.setdefault("ec2_instance_id", "i-" + instance_id[:17])
        instance = ContainerInstance(
            arn=instance_arn(scope, cluster_name(cluster_arn), instance_id),
            cluster_arn=cluster_arn,
            cpu=cpu,
            memory=memory,
            registered_at=now,
            health_changed_at=now,
            **fields,
        )
        self.save(instance)
        log.info("container instance %s registered", instance.arn, extra={"arn": instance.arn})
        return instance

    def arn_for(self, scope: Scope, cluster_arn: str, ref: str) -> str:
        if is_arn(ref):
            parts = ref.split(":")
            valid = len(parts) == 6 and parts[2] == "ecs"
            if not valid or not parts[5].startswith("container-instance/"):
                raise InvalidParameterException(f"Invalid container instance ARN: {ref}")
            return ref
        return instance_arn(scope, cluster_name(cluster_arn), ref)

    def find(self, scope: Scope, cluster_arn: str, ref: str) -> ContainerInstance | None:
        """The instance `ref` (an id or ARN) names in the cluster, deregistered ones included."""
        target = self.arn_for(scope, cluster_arn, ref)
        instance = self.by_arn.get(target)
        if instance is None and is_arn(ref):
            # An ARN of the older format (without the cluster name) names the same instance.
            short = arn_resource(ref).rsplit("/", 1)[-1]
            instance = self.by_arn.get(instance_arn(scope, cluster_name(cluster_arn), short))
        if instance is None or instance.cluster_arn != cluster_arn:
            return None
        return instance

    def in_cluster(self, cluster_arn: str, statuses: tuple[str, ...]) -> list[ContainerInstance]:
        return sorted(
            (
                i
                for i in self.by_arn.values()
                if i.cluster_arn == cluster_arn and i.status in statuses
            ),
            key=lambda i: i.arn,
        )

    def managed_capacity(self) -> list[ContainerInstance]:
        """The instances where the server runs FARGATE tasks (the embedded agent's host)."""
        return sorted(
            (i for i in self.by_arn.values() if i.managed and i.status in REGISTERED_STATUSES),
            key=lambda i: i.arn,
        )

    def set_connected(self, instance: ContainerInstance, connected: bool) -> bool:
        """Record whether its agent is connected; True when that changed."""
        if instance.agent_connected == connected:
            return False
        instance.agent_connected = connected
        instance.health_changed_at = self.clock.now()
        instance.version += 1
        self.save(instance)
        return True

    def deregister(self, instance: ContainerInstance) -> ContainerInstance:
        instance.status = InstanceStatus.INACTIVE
        instance.agent_connected = False
        instance.deregistered_at = self.clock.now()
        instance.version += 1
        self.save(instance)
        log.info("container instance %s deregistered", instance.arn, extra={"arn": instance.arn})
        return instance

    def forget(self, instance_arn: str) -> bool:
        """Let a deregistered (INACTIVE) instance go, from memory and the store at once. False
        for an unknown instance or one still registered."""
        instance = self.by_arn.get(instance_arn)
        if instance is None or instance.status != InstanceStatus.INACTIVE:
            return False
        self.store.delete(KIND, instance_arn)
        del self.by_arn[instance_arn]
        log.info("container instance %s forgotten", instance_arn, extra={"arn": instance_arn})
        return True
