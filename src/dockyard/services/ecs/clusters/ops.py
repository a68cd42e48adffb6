"""ECS cluster operations and resource tagging: request in, domain call, output shape out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.ecs import validation
from dockyard.services.ecs.clusters.wire import cluster_to_wire
from dockyard.services.ecs.errors import (
    ClusterContainsContainerInstancesException,
    ClusterContainsServicesException,
    ClusterContainsTasksException,
    InvalidParameterException,
)
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tags import tags_to_wire, validate_tags


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def create_cluster(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        name = validation.cluster_name(p.get("clusterName") or "default")
        settings = validation.cluster_settings(p.get("settings", []))
        cluster = ecs.clusters.create(
            scope,
            name,
            settings=settings,
            configuration=p.get("configuration"),
            tags=validate_tags(p.get("tags", [])),
            capacity_providers=p.get("capacityProviders", []),
            default_capacity_provider_strategy=p.get("defaultCapacityProviderStrategy", []),
            service_connect_defaults=p.get("serviceConnectDefaults"),
        )
        return {"cluster": cluster_to_wire(ecs, cluster, {"SETTINGS", "CONFIGURATIONS", "TAGS"})}

    def describe_clusters(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        include = set(p.get("include", []))
        clusters, failures = [], []
        for ref in p.get("clusters") or ["default"]:
            arn = ecs.clusters.arn_for(scope, ref)
            cluster = ecs.clusters.by_arn.get(arn)
            if cluster is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                clusters.append(cluster_to_wire(ecs, cluster, include))
        return {"clusters": clusters, "failures": failures}

    def list_clusters(ctx: RequestContext, p: Params) -> Result:
        clusters = ecs.clusters.list(scope_of(ctx))
        try:
            chunk, token = page(clusters, lambda c: c.arn, p.get("nextToken"), p.get("maxResults"))
        except InvalidToken as exc:
            raise InvalidParameterException("Invalid nextToken.") from exc
        out: Result = {"clusterArns": [c.arn for c in chunk]}
        if token:
            out["nextToken"] = token
        return out

    def update_cluster(ctx: RequestContext, p: Params) -> Result:
        cluster = replace(ecs.clusters.get(scope_of(ctx), p["cluster"]))  # a draft
        if "settings" in p:
            settings = validation.cluster_settings(p["settings"])
            cluster.settings = merge_settings(cluster.settings, settings)
        if "configuration" in p:
            cluster.configuration = p["configuration"]
        if "serviceConnectDefaults" in p:
            cluster.service_connect_defaults = p["serviceConnectDefaults"]
        ecs.clusters.save(cluster)
        return {"cluster": cluster_to_wire(ecs, cluster, {"SETTINGS", "CONFIGURATIONS"})}

    def update_cluster_settings(ctx: RequestContext, p: Params) -> Result:
        cluster = replace(ecs.clusters.get(scope_of(ctx), p["cluster"]))  # a draft
        settings = validation.cluster_settings(p["settings"])
        cluster.settings = merge_settings(cluster.settings, settings)
        ecs.clusters.save(cluster)
        return {"cluster": cluster_to_wire(ecs, cluster, {"SETTINGS"})}

    def delete_cluster(ctx: RequestContext, p: Params) -> Result:
        cluster = ecs.clusters.get(scope_of(ctx), p["cluster"])
        counts = ecs.cluster_counts(cluster)
        if counts["registeredContainerInstancesCount"]:
            raise ClusterContainsContainerInstancesException(
                "The Cluster cannot be deleted while Container Instances are active or draining."
            )
        if counts["activeServicesCount"]:
            raise ClusterContainsServicesException(
                "The Cluster cannot be deleted while Services are active."
            )
        if counts["runningTasksCount"] or counts["pendingTasksCount"]:
            raise ClusterContainsTasksException(
                "The Cluster cannot be deleted while Tasks are active."
            )
        inactive = ecs.clusters.delete(cluster)
        return {"cluster": cluster_to_wire(ecs, inactive, {"SETTINGS", "CONFIGURATIONS"})}

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        tags = ecs.tags_of(p["resourceArn"])
        new = validate_tags(p["tags"])
        if len({**tags, **new}) > 50:
            raise InvalidParameterException("A resource can have at most 50 tags (tags).")
        tags.update(new)
        ecs.save_tagged(p["resourceArn"])
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        tags = ecs.tags_of(p["resourceArn"])
        for key in p["tagKeys"]:
            tags.pop(key, None)
        ecs.save_tagged(p["resourceArn"])
        return {}

    def list_tags_for_resource(ctx: RequestContext, p: Params) -> Result:
        return {"tags": tags_to_wire(ecs.tags_of(p["resourceArn"]))}

    return {
        "CreateCluster": create_cluster,
        "DescribeClusters": describe_clusters,
        "ListClusters": list_clusters,
        "UpdateCluster": update_cluster,
        "UpdateClusterSettings": update_cluster_settings,
        "DeleteCluster": delete_cluster,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    }


def merge_settings(
    current: list[dict[str, Any]], changes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_name = {s["name"]: s for s in current}
    for s in changes:
        by_name[s["name"]] = s
    return list(by_name.values())
