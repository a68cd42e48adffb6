"""ECS capacity provider operations, and the strategy check RunTask and services share."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.scope import Scope
from dockyard.services.ecs.capacity import managed
from dockyard.services.ecs.capacity.domain import (
    FARGATE_PROVIDERS,
    CapacityProvider,
    parse_strategy,
    provider_arn,
    provider_name,
)
from dockyard.services.ecs.clusters.domain import Cluster
from dockyard.services.ecs.clusters.wire import cluster_to_wire
from dockyard.services.ecs.deployments.model import ServiceStatus
from dockyard.services.ecs.errors import (
    ClientException,
    InvalidParameterException,
    ResourceInUseException,
)
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tags import tags_to_wire, validate_tags

IN_USE = "The specified capacity provider is in use and cannot be removed."


def provider_to_wire(p: CapacityProvider, include_tags: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "capacityProviderArn": p.arn,
        "name": p.name,
        "status": p.status,
        "type": p.type,
    }
    if p.auto_scaling_group_provider:
        out["autoScalingGroupProvider"] = p.auto_scaling_group_provider
    if p.update_status:
        out["updateStatus"] = p.update_status
    if p.update_status_reason:
        out["updateStatusReason"] = p.update_status_reason
    if include_tags and p.tags:
        out["tags"] = tags_to_wire(p.tags)
    return out


def _in_use(ecs: Ecs, scope: Scope, name: str, cluster: Cluster | None = None) -> bool:
    for svc in ecs.services.by_arn.values():
        if svc.status == ServiceStatus.INACTIVE or (
            cluster is not None and svc.cluster_arn != cluster.arn
        ):
            continue
        if any(s.get("capacityProvider") == name for s in svc.capacity_provider_strategy):
            return True
    return False


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def create_capacity_provider(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if p.get("managedInstancesProvider"):
            raise InvalidParameterException(
                "Dockyard does not support ECS Managed Instances capacity providers "
                "(managedInstancesProvider)."
            )
        asg = p.get("autoScalingGroupProvider")
        if not asg:
            raise InvalidParameterException(
                "autoScalingGroupProvider is required (autoScalingGroupProvider)."
            )
        tags = validate_tags(p.get("tags") or [])
        ecs.capacity_providers.check_new(scope, p["name"])
        merged = managed.settings(asg)
        group = managed.check_group(ecs.capacity_providers.groups, scope, merged, None, ecs)
        provider = ecs.capacity_providers.create(
            scope, p["name"], merged, tags, group.name if group is not None else ""
        )
        managed.sync(ecs, scope, provider)
        return {"capacityProvider": provider_to_wire(provider)}

    def update_capacity_provider(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        provider = ecs.capacity_providers.find(scope, p["name"])
        if provider is None or provider.name in FARGATE_PROVIDERS:
            raise ClientException(f"The specified capacity provider {p['name']} does not exist.")
        if p.get("managedInstancesProvider"):
            raise InvalidParameterException(
                "Dockyard does not support ECS Managed Instances capacity providers "
                "(managedInstancesProvider)."
            )
        asg = dict(p.get("autoScalingGroupProvider") or {})
        asg.pop("autoScalingGroupArn", None)  # cannot change
        before = provider.auto_scaling_group_provider
        merged = managed.settings(asg, before)
        group = managed.check_group(ecs.capacity_providers.groups, scope, merged, provider, ecs)
        draft = replace(provider, auto_scaling_group_provider=merged,
                        update_status="UPDATE_COMPLETE",
                        managed_policies=dict(provider.managed_policies))  # fmt: skip
        if group is not None:
            draft.group_name = group.name
        old, new = before.get("managedScaling") or {}, merged["managedScaling"]
        keys = ("targetCapacity", "instanceWarmupPeriod")
        managed.plan_policies(ecs, draft, renew=any(old.get(k) != new.get(k) for k in keys))
        ecs.capacity_providers.save(draft)
        managed.sync(ecs, scope, draft)
        return {"capacityProvider": provider_to_wire(draft)}

    def delete_capacity_provider(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        ref = p["capacityProvider"]
        provider = ecs.capacity_providers.find(scope, ref)
        if provider is None or provider.name in FARGATE_PROVIDERS:
            raise ClientException(f"The specified capacity provider {ref} does not exist.")
        for cluster in ecs.clusters.list(scope):
            if provider.name in cluster.capacity_providers:
                raise ResourceInUseException(
                    f"{IN_USE} It is associated with cluster {cluster.name}; remove it with "
                    "PutClusterCapacityProviders first."
                )
        ecs.capacity_providers.delete(provider)
        managed.sync(ecs, scope, provider)
        return {"capacityProvider": provider_to_wire(provider)}

    def describe_capacity_providers(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        include_tags = "TAGS" in (p.get("include") or [])
        refs = p.get("capacityProviders")
        if not refs:
            listed = ecs.capacity_providers.listed(scope)
            return {"capacityProviders": [provider_to_wire(x, include_tags) for x in listed]}
        found, failures = [], []
        for ref in refs:
            provider = ecs.capacity_providers.find(scope, ref)
            if provider is None:
                arn = ref if ref.startswith("arn:") else provider_arn(scope, provider_name(ref))
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(provider_to_wire(provider, include_tags))
        return {"capacityProviders": found, "failures": failures}

    def put_cluster_capacity_providers(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = replace(ecs.clusters.get(scope, p["cluster"]))  # a draft, saved at the end
        names = [provider_name(r) for r in p["capacityProviders"]]
        if len(set(names)) != len(names):
            raise InvalidParameterException(
                "The capacity providers of a cluster must be unique (capacityProviders)."
            )
        for name in names:
            if ecs.capacity_providers.find(scope, name) is None:
                raise InvalidParameterException(
                    f"The specified capacity provider {name} does not exist (capacityProviders)."
                )
        for name in set(cluster.capacity_providers) - set(names):
            if _in_use(ecs, scope, name, cluster):
                raise ResourceInUseException(f"{IN_USE} A service of the cluster uses {name}.")
        strategy = list(p["defaultCapacityProviderStrategy"])
        items = parse_strategy(strategy, "defaultCapacityProviderStrategy")
        for item in items:
            if item.provider not in names:
                raise InvalidParameterException(
                    f"The capacity provider {item.provider} of the default strategy is not "
                    "one of the cluster's capacity providers (defaultCapacityProviderStrategy)."
                )
        cluster.capacity_providers = names
        cluster.default_capacity_provider_strategy = [
            {"capacityProvider": i.provider, "weight": i.weight, "base": i.base} for i in items
        ]
        ecs.clusters.save(cluster)
        managed.sync_scope(ecs, scope)
        return {"cluster": cluster_to_wire(ecs, cluster, set())}

    return {
        "CreateCapacityProvider": create_capacity_provider,
        "UpdateCapacityProvider": update_capacity_provider,
        "DeleteCapacityProvider": delete_capacity_provider,
        "DescribeCapacityProviders": describe_capacity_providers,
        "PutClusterCapacityProviders": put_cluster_capacity_providers,
    }
