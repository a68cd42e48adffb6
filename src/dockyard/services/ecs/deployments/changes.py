"""Creating and updating a service, as typed domain calls: `create(ecs, scope,
CreateServiceRequest) -> EcsService` and `update(ecs, scope, UpdateServiceRequest)`. The
CreateService/UpdateService operations map the wire to these requests; other callers
(controllers, CloudFormation handlers) make the requests themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.core.scope import Scope
from dockyard.services.ecs.capacity.domain import launch_type_for, strategy_to_wire
from dockyard.services.ecs.clusters.domain import cluster_name
from dockyard.services.ecs.deployments import validation as rules
from dockyard.services.ecs.deployments.launch import active_service, check_launch
from dockyard.services.ecs.deployments.model import (
    EcsService,
    ServiceStatus,
    service_arn,
)
from dockyard.services.ecs.deployments.task_sets import new_task_set
from dockyard.services.ecs.errors import (
    InvalidParameterException,
)
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tags import validate_tags
from dockyard.services.ecs.tasks import launch as task_launch


@dataclass(slots=True)
class ServiceRequest:
    """The operation's input by its AWS member names (serviceName, cluster, taskDefinition,
    desiredCount, deploymentConfiguration, loadBalancers, networkConfiguration, ...), and
    whose call it is: `caller`, the access key whose task policy the service's tasks run
    under (docs/task-policy.md)."""

    members: dict[str, Any] = field(default_factory=dict)
    caller: str | None = None

    def params(self) -> dict[str, Any]:
        return dict(self.members)


@dataclass(slots=True)
class CreateServiceRequest(ServiceRequest):
    @classmethod
    def of(cls, service_name: str, task_definition: str | None = None, *,
           caller: str | None = None, **members: Any) -> CreateServiceRequest:  # fmt: skip
        members["serviceName"] = service_name
        if task_definition is not None:
            members["taskDefinition"] = task_definition
        return cls(members, caller)


@dataclass(slots=True)
class UpdateServiceRequest(ServiceRequest):
    @classmethod
    def of(cls, service: str, *, caller: str | None = None,
           **members: Any) -> UpdateServiceRequest:  # fmt: skip
        members["service"] = service
        return cls(members, caller)


def create(ecs: Ecs, scope: Scope, request: CreateServiceRequest) -> EcsService:
    """CreateService: check the request, then the new service and its first deployment (or
    task set), committed together."""
    p = request.params()
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
            ecs, scope, cluster, p["taskDefinition"], p, launch_type, request.caller
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
        policy_key=request.caller,
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


def update(ecs: Ecs, scope: Scope, request: UpdateServiceRequest) -> EcsService:
    """UpdateService: everything checked first, then the service changed (and a new
    deployment started when what runs changes)."""
    p = request.params()
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
            request.caller,
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
        service.policy_key = request.caller  # its tasks now run under the updater's policy
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
