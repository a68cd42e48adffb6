"""Where an agent registers its instance: the cluster it names (`default` created on demand)."""

from __future__ import annotations

from dockyard.core.scope import Scope
from dockyard.services.ecs.clusters.domain import DEFAULT_CLUSTER, Cluster, cluster_name
from dockyard.services.ecs.service import Ecs


def cluster_for_registration(ecs: Ecs, scope: Scope, ref: str | None) -> Cluster:
    """The cluster an instance registers into; `default` is created when missing, as ECS does."""
    # A malformed cluster ARN is an InvalidParameterException, not a name to look up.
    if cluster_name(ecs.clusters.arn_for(scope, ref)) == DEFAULT_CLUSTER:
        return ecs.clusters.ensure(scope, DEFAULT_CLUSTER)
    return ecs.clusters.get(scope, ref)
