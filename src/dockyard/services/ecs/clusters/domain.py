"""ECS clusters: the domain."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from dockyard.core.ids import arn, arn_resource, is_arn
from dockyard.core.scope import Scope
from dockyard.services.ecs.errors import ClusterNotFoundException, InvalidParameterException
from dockyard.services.ecs.state import EcsDomain
from dockyard.store.undo import put_record

KIND = "ecs.cluster"
DEFAULT_CLUSTER = "default"


class ClusterStatus(StrEnum):
    """A cluster's status."""

    ACTIVE = "ACTIVE"
    PROVISIONING = "PROVISIONING"
    DEPROVISIONING = "DEPROVISIONING"
    FAILED = "FAILED"
    INACTIVE = "INACTIVE"


@dataclass(slots=True)
class Cluster:
    arn: str
    name: str
    status: str = "ACTIVE"  # ACTIVE | INACTIVE (deleted)
    settings: list[dict[str, Any]] = field(default_factory=list)
    configuration: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    capacity_providers: list[str] = field(default_factory=list)
    default_capacity_provider_strategy: list[dict[str, Any]] = field(default_factory=list)
    service_connect_defaults: dict[str, Any] | None = None
    created_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cluster_arn(scope: Scope, name: str) -> str:
    return arn("ecs", scope.region, scope.account_id, f"cluster/{name}")


def cluster_name(ref: str) -> str:
    """The name in a cluster reference (a name or an ARN)."""
    return arn_resource(ref).split("/", 1)[1] if is_arn(ref) else ref


class Clusters(EcsDomain):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_arn: dict[str, Cluster] = {}

    def load(self) -> None:
        self.by_arn = {key: Cluster(**body) for key, body in self.store.load(KIND)}

    def reset(self) -> None:
        self.by_arn.clear()

    def save(self, cluster: Cluster) -> None:
        put_record(self.store, KIND, cluster.arn, cluster, lambda b: Cluster(**b))
        self.by_arn[cluster.arn] = cluster

    def arn_for(self, scope: Scope, ref: str | None) -> str:
        ref = ref or DEFAULT_CLUSTER
        if is_arn(ref):
            parts = ref.split(":")
            if len(parts) != 6 or parts[2] != "ecs" or not parts[5].startswith("cluster/"):
                raise InvalidParameterException(f"Invalid cluster ARN: {ref}")
            return ref
        return cluster_arn(scope, ref)

    def find(self, scope: Scope, ref: str | None) -> Cluster | None:
        return self.by_arn.get(self.arn_for(scope, ref))

    def get(self, scope: Scope, ref: str | None) -> Cluster:
        """An ACTIVE cluster, or ClusterNotFoundException."""
        cluster = self.find(scope, ref)
        if cluster is None or cluster.status != ClusterStatus.ACTIVE:
            raise ClusterNotFoundException("Cluster not found.")
        return cluster

    def ensure(self, scope: Scope, name: str) -> Cluster:
        """The named cluster, created when missing (ECS does this for `default`)."""
        cluster = self.find(scope, name)
        if cluster is None or cluster.status != ClusterStatus.ACTIVE:
            cluster = self.create(scope, name)
        return cluster

    def create(self, scope: Scope, name: str, **fields: Any) -> Cluster:
        existing = self.find(scope, name)
        if existing is not None and existing.status == ClusterStatus.ACTIVE:
            # CreateCluster is idempotent for an existing active cluster.
            return existing
        cluster = Cluster(
            arn=cluster_arn(scope, name), name=name, created_at=self.clock.now(), **fields
        )
        self.save(cluster)
        return cluster

    def list(self, scope: Scope) -> list[Cluster]:
        prefix = cluster_arn(scope, "")
        return sorted(
            (
                c
                for a, c in self.by_arn.items()
                if a.startswith(prefix) and c.status == ClusterStatus.ACTIVE
            ),
            key=lambda c: c.arn,
        )

    def delete(self, cluster: Cluster) -> Cluster:
        """The cluster, now INACTIVE (a new record: memory changes only once stored)."""
        inactive = replace(cluster, status="INACTIVE")
        self.save(inactive)
        return inactive
