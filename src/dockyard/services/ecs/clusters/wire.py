"""A cluster in DescribeClusters' output shape."""

from __future__ import annotations

from typing import Any

from dockyard.services.ecs.clusters.domain import Cluster
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tags import tags_to_wire


def cluster_to_wire(ecs: Ecs, cluster: Cluster, include: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clusterArn": cluster.arn,
        "clusterName": cluster.name,
        "status": cluster.status,
        "capacityProviders": cluster.capacity_providers,
        "defaultCapacityProviderStrategy": cluster.default_capacity_provider_strategy,
        "statistics": [],
    }
    out.update(ecs.cluster_counts(cluster))
    if cluster.configuration is not None and "CONFIGURATIONS" in include:
        out["configuration"] = cluster.configuration
    if "SETTINGS" in include:
        out["settings"] = cluster.settings
    if "TAGS" in include:
        out["tags"] = tags_to_wire(cluster.tags)
    if cluster.service_connect_defaults is not None:
        out["serviceConnectDefaults"] = cluster.service_connect_defaults
    return out
