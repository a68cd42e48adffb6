"""ECS service operations: CreateService, UpdateService, DeleteService, DescribeServices,
ListServices, ListServicesByNamespace."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ecs.capacity.domain import launch_type_for, strategy_to_wire
from dockyard.services.ecs.clusters.domain import cluster_name
from dockyard.services.ecs.deployments import validation as rules
from dockyard.services.ecs.deployments.launch import active_service, check_launch
from dockyard.services.ecs.deployments.model import (
    EcsService,
    ServiceStatus,
    computed_count,
    service_arn,
)
from dockyard.services.ecs.deployments.task_sets import new_task_set
from dockyard.services.ecs.deployments.wire import service_to_wire
from dockyard.services.ecs.errors import (
    InvalidParameterException,
    NamespaceNotFoundException,
    ServiceNotFoundException,
)
from dockyard.services.ecs.listing import list_page
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tags import validate_tags
from dockyard.services.ecs.tasks import launch as task_launch

MAX_DESCRIBE = 10


def describe(ecs: Ecs, service: EcsService, include_tags: bool = False) -> dict[str, Any]:
    counts = {ts.id: computed_count(service, ts) for ts in service.task_sets}
    return service_to_wire(service, include_tags, counts)


def create(ecs: Ecs, ctx: RequestContext, p: Params) -> EcsService:
    scope = scope_of(ctx)
    cluster = ecs.clusters.get(scope, p.get("cluster"))
    name = rules.service_name(p["serviceName"])
    rules.unsupported(p, registries=True)
    scheduling = rules.strategy(p.get("schedulingStrategy"))
    controller = rules.controller(p)
    existing = ecs.services.find(scope, cluster.arn, name)
    if existing is not None and existing.status != ServiceStatus.INACTIVE:
        if p.get("clientToken") and existing.client_token == p.get("clientToken"):
            return existing
        raise InvalidParameterException("Creation of service was not idempotent.")
    launch_type, provider = task_launch.launch_type_of(cluster, p)
    providers: list[dict[str, Any]] = []
    if provider is not None:  # a capacity provider strategy, given or the cluster's default
        raw = p.get("capacityProviderStrategy") or cluster.default_capacity_provider_strategy
        items = ecs.capacity_providers.strategy_for(scope, cluster, raw, "capacityProviderStrategy")
        providers = strategy_to_wire(items)
    if scheduling == "DAEMON" and launch_type == "FARGATE":
        raise InvalidParameterException(
            "The DAEMON scheduling strategy is not supported with the FARGATE launch type."
        )
    if scheduling == "DAEMON" and controller != "ECS":
        raise InvalidParameterException(
            "The DAEMON scheduling strategy needs the ECS deployment controller."
        )
    strategy, constraints = rules.placement(p, launch_type)
    taskdef: dict[str, Any] | None = None
    if p.get("taskDefinition"):
        taskdef = check_launch(
            ecs, scope, cluster, p["taskDefinition"], p, launch_type, ctx.access_key_id
        )
    elif controller != "EXTERNAL":
        raise InvalidParameterException("A task definition must be given (taskDefinition).")
    config = rules.deployment_configuration(
        p.get("deploymentConfiguration"), None, scheduling=scheduling, controller_type=controller
    )
    now = ecs.clock.now()
    service = EcsService(
        arn=service_arn(scope, cluster_name(cluster.arn), name),
        name=name,
        cluster_arn=cluster.arn,
        task_definition_arn=taskdef["taskDefinitionArn"] if taskdef else None,
        desired_count=rules.desired_count(p.get("desiredCount"), scheduling),
        launch_type=launch_type,
        created_at=now,
        scheduling_strategy=scheduling,
        deployment_controller=controller,
        deployment_configuration=config,
        load_balancers=rules.load_balancers(
            p.get("loadBalancers") or [], taskdef, ecs.target_groups, scope
        ),
        service_registries=rules.service_registries(
            p.get("serviceRegistries") or [], taskdef, ecs.service_registries, scope
        ),
        network_configuration=p.get("networkConfiguration"),
        health_check_grace_period=rules.grace_period(p.get("healthCheckGracePeriodSeconds")),
        capacity_provider_strategy=providers,
        placement_strategy=strategy,
        placement_constraints=constraints,
        platform_version=p.get("platformVersion")
        or ("LATEST" if launch_type == "FARGATE" else None),
        role_arn=p.get("role"),
        tags=validate_tags(p.get("tags") or []),
        created_by=f"arn:aws:iam::{scope.account_id}:root",
        enable_ecs_managed_tags=bool(p.get("enableECSManagedTags")),
        propagate_tags=rules.propagate_tags(p.get("propagateTags")),
        client_token=p.get("clientToken"),
        policy_key=ctx.access_key_id,
    )
    del provider
    if controller == "ECS" and taskdef is not None:
        ecs.services.new_deployment(service, task_definition_arn=service.task_definition_arn or "")
    if controller == "CODE_DEPLOY" and taskdef is not None:
        # As ECS does, the service starts on a first (PRIMARY) task set that CodeDeploy
        # deployments later replace.
        new_task_set(
            service, task_definition_arn=taskdef["taskDefinitionArn"], launch_type=launch_type,
            load_balancers=service.load_balancers,
            network_configuration=service.network_configuration,
            platform_version=service.platform_version, now=now,
        )  # fmt: skip
    ecs.services.save(service)
    return service


def update(ecs: Ecs, ctx: RequestContext, p: Params) -> EcsService:
    scope = scope_of(ctx)
    cluster = ecs.clusters.get(scope, p.get("cluster"))
    service = active_service(ecs, scope, cluster, p["service"])
    rules.unsupported(p, registries=True)
    if p.get("deploymentController") and rules.controller(p) != service.deployment_controller:
        raise InvalidParameterException(
            "Dockyard cannot change a service's deployment controller (deploymentController)."
        )
    external = service.deployment_controller != "ECS"
    redeploy = bool(p.get("forceNewDeployment"))
    taskdef: dict[str, Any] | None = None
    if p.get("taskDefinition"):
        if external:
            raise InvalidParameterException(
                "Updating the task definition of a service with the "
                f"{service.deployment_controller} deployment controller is not supported; "
                "use its task sets (taskDefinition)."
            )
        params = {
            "networkConfiguration": p.get("networkConfiguration", service.network_configuration),
            "placementConstraints": p.get("placementConstraints", service.placement_constraints),
        }
        taskdef = check_launch(
            ecs, scope, cluster, p["taskDefinition"], params, service.launch_type,
            ctx.access_key_id,
        )  # fmt: skip
        redeploy = redeploy or taskdef["taskDefinitionArn"] != service.task_definition_arn
    if "networkConfiguration" in p and p["networkConfiguration"] != service.network_configuration:
        if taskdef is None and service.task_definition_arn:
            check_launch(ecs, scope, cluster, service.task_definition_arn, p,
                         service.launch_type, service.policy_key)  # fmt: skip
        redeploy = True
    if "loadBalancers" in p:
        current = (
            ecs.taskdefs.resolve(scope, service.task_definition_arn)
            if (taskdef is None and service.task_definition_arn)
            else taskdef
        )
        lbs = rules.load_balancers(p["loadBalancers"] or [], current, ecs.target_groups, scope)
        redeploy = redeploy or lbs != service.load_balancers
    elif taskdef is not None and service.load_balancers:
        rules.load_balancers(service.load_balancers, taskdef, ecs.target_groups, scope)
    if "serviceRegistries" in p:
        current = (
            ecs.taskdefs.resolve(scope, service.task_definition_arn)
            if (taskdef is None and service.task_definition_arn)
            else taskdef
        )
        registries = rules.service_registries(
            p["serviceRegistries"] or [], current, ecs.service_registries, scope
        )
        redeploy = redeploy or registries != service.service_registries
    elif taskdef is not None and service.service_registries:
        rules.service_registries(service.service_registries, taskdef, ecs.service_registries, scope)
    if "platformVersion" in p and p["platformVersion"] != service.platform_version:
        redeploy = True
    providers = service.capacity_provider_strategy
    if p.get("capacityProviderStrategy"):
        items = ecs.capacity_providers.strategy_for(
            scope, cluster, p["capacityProviderStrategy"], "capacityProviderStrategy"
        )
        if {launch_type_for(i.provider) for i in items} != {service.launch_type}:
            raise InvalidParameterException(
                f"The capacity provider strategy must keep the service's launch type "
                f"{service.launch_type} (capacityProviderStrategy)."
            )
        providers = strategy_to_wire(items)
        redeploy = redeploy or providers != service.capacity_provider_strategy
    placed = (service.placement_strategy, service.placement_constraints)
    strategy, constraints = rules.placement(p, service.launch_type, placed)
    if "placementConstraints" in p and taskdef is None and service.task_definition_arn:
        params = {"placementConstraints": constraints,
                  "networkConfiguration": service.network_configuration}  # fmt: skip
        check_launch(ecs, scope, cluster, service.task_definition_arn, params,
                     service.launch_type, service.policy_key)  # fmt: skip
    config = rules.deployment_configuration(
        p.get("deploymentConfiguration"),
        service.deployment_configuration,
        scheduling=service.scheduling_strategy,
        controller_type=service.deployment_controller,
    )
    # Everything checked: now change the service.
    if "desiredCount" in p and p["desiredCount"] is not None:
        service.desired_count = rules.desired_count(p["desiredCount"], service.scheduling_strategy)
    service.deployment_configuration = config
    if "healthCheckGracePeriodSeconds" in p:
        service.health_check_grace_period = rules.grace_period(p["healthCheckGracePeriodSeconds"])
    if "propagateTags" in p:
        service.propagate_tags = rules.propagate_tags(p["propagateTags"])
    if "enableECSManagedTags" in p:
        service.enable_ecs_managed_tags = bool(p["enableECSManagedTags"])
    if taskdef is not None:
        service.task_definition_arn = taskdef["taskDefinitionArn"]
        service.policy_key = ctx.access_key_id  # its tasks now run under the updater's policy
    if "networkConfiguration" in p:
        service.network_configuration = p["networkConfiguration"]
    if "loadBalancers" in p:
        service.load_balancers = lbs
    if "serviceRegistries" in p:
        service.service_registries = registries
    if "platformVersion" in p:
        service.platform_version = p["platformVersion"]
    service.capacity_provider_strategy = providers
    # New placement rules apply to the tasks placed from now on; no new deployment.
    service.placement_strategy, service.placement_constraints = strategy, constraints
    primary = service.primary
    if redeploy and not external and service.task_definition_arn:
        ecs.services.new_deployment(service, task_definition_arn=service.task_definition_arn)
    elif primary is not None:
        primary.desired_count = service.desired_count
        primary.updated_at = ecs.clock.now()
        service.steady = service.steady and "desiredCount" not in p
    ecs.services.save(service)
    return service


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def create_service(ctx: RequestContext, p: Params) -> Result:
        return {"service": describe(ecs, create(ecs, ctx, p), include_tags=True)}

    def update_service(ctx: RequestContext, p: Params) -> Result:
        return {"service": describe(ecs, update(ecs, ctx, p))}

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
