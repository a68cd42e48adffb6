"""ECS service operations: CreateService, UpdateService, DeleteService, DescribeServices,
ListServices, ListServicesByNamespace."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ecs.deployments import changes
from dockyard.services.ecs.deployments.changes import CreateServiceRequest, UpdateServiceRequest
from dockyard.services.ecs.deployments.model import (
    EcsService,
    ServiceStatus,
    computed_count,
)
from dockyard.services.ecs.deployments.wire import service_to_wire
from dockyard.services.ecs.errors import (
    InvalidParameterException,
    NamespaceNotFoundException,
    ServiceNotFoundException,
)
from dockyard.services.ecs.listing import list_page
from dockyard.services.ecs.service import Ecs

MAX_DESCRIBE = 10


def describe(ecs: Ecs, service: EcsService, include_tags: bool = False) -> dict[str, Any]:
    counts = {ts.id: computed_count(service, ts) for ts in service.task_sets}
    return service_to_wire(service, include_tags, counts)


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def create_service(ctx: RequestContext, p: Params) -> Result:
        request = CreateServiceRequest(dict(p), caller=ctx.access_key_id)
        return {"service": describe(ecs, changes.create(ecs, scope_of(ctx), request), True)}

    def update_service(ctx: RequestContext, p: Params) -> Result:
        request = UpdateServiceRequest(dict(p), caller=ctx.access_key_id)
        return {"service": describe(ecs, changes.update(ecs, scope_of(ctx), request))}

    def delete_service(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        service = ecs.services.find(scope, cluster.arn, p["service"])
        if service is None or service.status == ServiceStatus.INACTIVE:
            raise ServiceNotFoundException("Service not found.")
        if service.status == ServiceStatus.ACTIVE:
            replica = service.scheduling_strategy == "REPLICA"
            if replica and service.desired_count > 0 and not p.get("force"):
                raise InvalidParameterException(
                    "The service cannot be stopped while it is scaled above 0."
                )
            service.status = ServiceStatus.DRAINING
            service.desired_count = 0
            service.steady = False
            ecs.services.save(service)
        return {"service": describe(ecs, service)}

    def describe_services(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        refs = p.get("services") or []
        if not 1 <= len(refs) <= MAX_DESCRIBE:
            raise InvalidParameterException(
                f"services must name 1 to {MAX_DESCRIBE} services (services)."
            )
        include_tags = "TAGS" in (p.get("include") or [])
        found, failures = [], []
        for ref in refs:
            service = ecs.services.find(scope, cluster.arn, ref)
            if service is None:
                arn = ecs.services.arn_for(scope, cluster.arn, ref)
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(describe(ecs, service, include_tags))
        return {"services": found, "failures": failures}

    def list_services(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        services = ecs.services.in_cluster(cluster.arn, ("ACTIVE", "DRAINING"))
        if p.get("launchType"):
            services = [s for s in services if s.launch_type == p["launchType"]]
        if p.get("schedulingStrategy"):
            services = [s for s in services if s.scheduling_strategy == p["schedulingStrategy"]]
        chunk, more = list_page(services, lambda s: s.arn, p, default_max=10)
        return {"serviceArns": [s.arn for s in chunk], **more}

    def list_services_by_namespace(ctx: RequestContext, p: Params) -> Result:
        # A service is in a Cloud Map namespace through its service registry's namespace.
        scope = scope_of(ctx)
        registries = ecs.service_registries
        namespace = (
            registries.namespace_arn(scope.account_id, scope.region, p["namespace"])
            if registries is not None
            else None
        )
        if registries is None or namespace is None:
            raise NamespaceNotFoundException(f"Namespace {p['namespace']} was not found.")
        services = []
        for service in sorted(ecs.services.by_arn.values(), key=lambda s: s.arn):
            if service.status != ServiceStatus.ACTIVE or service.scope != scope:
                continue
            for entry in service.service_registries:
                registry = registries.registry(
                    scope.account_id, scope.region, str(entry.get("registryArn"))
                )
                if registry is not None and registry.namespace_arn == namespace:
                    services.append(service)
                    break
        chunk, more = list_page(services, lambda s: s.arn, p, default_max=10)
        return {"serviceArns": [s.arn for s in chunk], **more}

    return {
        "CreateService": create_service,
        "UpdateService": update_service,
        "DeleteService": delete_service,
        "DescribeServices": describe_services,
        "ListServices": list_services,
        "ListServicesByNamespace": list_services_by_namespace,
    }
