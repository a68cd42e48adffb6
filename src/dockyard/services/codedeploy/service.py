"""CodeDeploy for the ECS compute platform: applications, deployment configs, deployment
groups and deployments, kept in memory and written through to the store.

`targets` (a `BlueGreenTargets`, set by the composition root) answers what CodeDeploy checks
in ECS and ELB (services, target groups, listeners, task definitions). The deployment
controller watches deployments (`watch`) and moves them along.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.codedeploy import appspec, configs, validation
from dockyard.services.codedeploy import errors as e
from dockyard.services.codedeploy.model import (
    ECS_EVENTS,
    Application,
    ComputePlatform,
    Deployment,
    DeploymentConfig,
    DeploymentGroup,
    DeploymentStatus,
    LifecycleEvent,
)
from dockyard.services.codedeploy.ports import BlueGreenTargets
from dockyard.store.base import Store
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

APP_KIND = "codedeploy.application"
CONFIG_KIND = "codedeploy.config"
GROUP_KIND = "codedeploy.group"
DEPLOYMENT_KIND = "codedeploy.deployment"
STOP_MESSAGE = "Stopping Pending. Stopping to schedule commands in the deployment instances"

Watcher = Callable[[Deployment], None]


def new_deployment_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "d-" + "".join(secrets.choice(alphabet) for _ in range(9))


class CodeDeploy:
    def __init__(
        self, store: Store, clock: Clock, *, targets: BlueGreenTargets | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.applications: dict[str, Application] = {}
        self.configs: dict[str, DeploymentConfig] = {}
        self.predefined = configs.predefined()
        self.groups: dict[str, DeploymentGroup] = {}
        self.deployments: dict[str, Deployment] = {}
        self.targets = targets
        self._watchers: list[Watcher] = []

    # -- state ----------------------------------------------------------------------------

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(APP_KIND):
            self.applications[key] = Application(**body)
        for key, body in self.store.load(CONFIG_KIND):
            self.configs[key] = DeploymentConfig(**body)
        for key, body in self.store.load(GROUP_KIND):
            self.groups[key] = DeploymentGroup(**body)
        for key, body in self.store.load(DEPLOYMENT_KIND):
            try:
                self.deployments[key] = Deployment.from_dict(body)
            except (KeyError, TypeError, ValueError):
                log.exception("skipping an unreadable deployment record", extra={"key": key})

    def reset(self) -> None:
        self.applications.clear()
        self.configs.clear()
        self.groups.clear()
        self.deployments.clear()

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def save_app(self, app: Application) -> None:
        key = Scope(app.account_id, app.region).key(app.name)
        put_record(self.store, APP_KIND, key, app, lambda b: Application(**b))
        self.applications[key] = app

    def save_group(self, group: DeploymentGroup) -> None:
        key = Scope(group.account_id, group.region).key(group.application_name, group.name)
        put_record(self.store, GROUP_KIND, key, group, lambda b: DeploymentGroup(**b))
        self.groups[key] = group

    def save_deployment(self, deployment: Deployment, notify: bool = True) -> None:
        put_record(self.store, DEPLOYMENT_KIND, deployment.key, deployment, Deployment.from_dict)
        self.deployments[deployment.key] = deployment
        if notify:
            for watcher in list(self._watchers):
                watcher(deployment)

    # -- applications ---------------------------------------------------------------------

    def create_application(
        self, scope: Scope, name: str, platform: str | None, tags: dict[str, str]
    ) -> Application:
        validation.application_name(name)
        if scope.key(name) in self.applications:
            raise e.ApplicationAlreadyExistsException(f"{name} already exists in your account")
        platform = validation.compute_platform(platform)
        app = Application(new_uuid(), name, scope.account_id, scope.region, platform,
                          self.clock.now(), tags)  # fmt: skip
        self.save_app(app)
        return app

    def application(self, scope: Scope, name: str | None) -> Application:
        validation.application_name(name)
        app = self.applications.get(scope.key(name or ""))
        if app is None:
            raise e.ApplicationDoesNotExistException(f"No application found for name: {name}")
        return app

    def apps_in(self, scope: Scope) -> list[Application]:
        return sorted(
            (a for a in self.applications.values()
             if (a.account_id, a.region) == (scope.account_id, scope.region)),
            key=lambda a: a.name,
        )  # fmt: skip

    def rename_application(self, scope: Scope, name: str, new_name: str) -> None:
        app = self.application(scope, name)
        validation.application_name(new_name)
        if new_name == name:
            return
        if scope.key(new_name) in self.applications:
            raise e.ApplicationAlreadyExistsException(f"{new_name} already exists in your account")
        groups = self.groups_of(app)
        deployments = [
            d for d in self.deployments.values()
            if (d.account_id, d.region, d.application_name) == (
                scope.account_id, scope.region, name,
            )
        ]  # fmt: skip
        # One transaction: the application, its groups and deployments under the new name.
        renamed = replace(app, name=new_name)
        moved = [replace(g, application_name=new_name) for g in groups]
        self.store.write(
            puts=[(APP_KIND, scope.key(new_name), renamed.to_dict())]
            + [(GROUP_KIND, scope.key(new_name, g.name), g.to_dict()) for g in moved]
            + [
                (DEPLOYMENT_KIND, d.key, replace(d, application_name=new_name).to_dict())
                for d in deployments
            ],
            deletes=[(APP_KIND, scope.key(name))]
            + [(GROUP_KIND, scope.key(name, g.name)) for g in groups],
        )
        self.applications.pop(scope.key(name))
        self.applications[scope.key(new_name)] = renamed
        for g in moved:
            self.groups.pop(scope.key(name, g.name), None)
            self.groups[scope.key(new_name, g.name)] = g
        for d in deployments:  # in place: controllers hold these
            d.application_name = new_name

    def delete_application(self, scope: Scope, name: str) -> None:
        validation.application_name(name)
        app = self.applications.get(scope.key(name))
        if app is None:
            return  # AWS answers success for an application that does not exist
        for group in self.groups_of(app):
            self.delete_group(scope, name, group.name)
        self.store.delete(APP_KIND, scope.key(name))
        self.applications.pop(scope.key(name))

    # -- deployment configs ---------------------------------------------------------------

    def create_config(self, scope: Scope, p: dict[str, Any]) -> DeploymentConfig:
        name = validation.config_name(p.get("deploymentConfigName"))
        if name in self.predefined or scope.key(name) in self.configs:
            raise e.DeploymentConfigAlreadyExistsException(
                f"A deployment configuration with name {name} already exists"
            )
        platform = validation.compute_platform(p.get("computePlatform"))
        if p.get("minimumHealthyHosts"):
            raise e.InvalidMinimumHealthyHostValueException(
                "minimumHealthyHosts does not apply to the ECS compute platform "
                "(minimumHealthyHosts)."
            )
        if p.get("zonalConfig"):
            raise e.InvalidInputException(
                "zonalConfig does not apply to the ECS compute platform (zonalConfig)."
            )
        routing = validation.traffic_routing(p.get("trafficRoutingConfig"))
        config = DeploymentConfig(new_uuid(), name, platform, self.clock.now(), routing,
                                  None, scope.account_id, scope.region)  # fmt: skip
        self.store.put(CONFIG_KIND, scope.key(name), config.to_dict())
        self.configs[scope.key(name)] = config
        return config

    def config(self, scope: Scope, name: str | None) -> DeploymentConfig:
        validation.config_name(name)
        found = self.predefined.get(name or "") or self.configs.get(scope.key(name or ""))
        if found is None:
            raise e.DeploymentConfigDoesNotExistException(
                f"No deployment configuration found for name: {name}"
            )
        return found

    def configs_in(self, scope: Scope) -> list[DeploymentConfig]:
        custom = [c for c in self.configs.values()
                  if (c.account_id, c.region) == (scope.account_id, scope.region)]  # fmt: skip
        return sorted([*self.predefined.values(), *custom], key=lambda c: c.name)

    def delete_config(self, scope: Scope, name: str) -> None:
        validation.config_name(name)
        if name in self.predefined:
            raise e.InvalidOperationException(
                f"The deployment configuration {name} is a default configuration and cannot be "
                "deleted."
            )
        if scope.key(name) not in self.configs:
            return
        for group in self.groups.values():
            if (group.account_id, group.region) == (scope.account_id, scope.region) and (
                group.deployment_config_name == name
            ):
                raise e.DeploymentConfigInUseException(
                    f"The deployment configuration {name} is in use by deployment group "
                    f"{group.name}."
                )
        self.store.delete(CONFIG_KIND, scope.key(name))
        self.configs.pop(scope.key(name))

    # -- deployment groups ----------------------------------------------------------------

    def groups_of(self, app: Application) -> list[DeploymentGroup]:
        return sorted(
            (g for g in self.groups.values()
             if (g.account_id, g.region, g.application_name)
             == (app.account_id, app.region, app.name)),
            key=lambda g: g.name,
        )  # fmt: skip

    def group(self, scope: Scope, app_name: str, name: str | None) -> DeploymentGroup:
        app = self.application(scope, app_name)
        validation.group_name(name)
        group = self.groups.get(scope.key(app.name, name or ""))
        if group is None:
            raise e.DeploymentGroupDoesNotExistException(
                f"No Deployment Group found for name: {name}"
            )
        return group

    def _ecs_config(self, scope: Scope, name: str | None) -> str:
        config = self.config(scope, name or configs.DEFAULT_ECS_CONFIG)
        if config.compute_platform != ComputePlatform.ECS:
            raise e.InvalidDeploymentConfigNameException(
                f"The deployment configuration {config.name} is for the "
                f"{config.compute_platform} compute platform, not ECS (deploymentConfigName)."
            )
        return config.name

    def _check_ecs(self, scope: Scope, group: DeploymentGroup) -> None:
        """The ECS service, target groups and listeners exist and fit together."""
        targets = self.targets
        if targets is None:
            return
        svc = group.ecs_services[0]
        view = targets.ecs_service(
            scope.account_id, scope.region, svc["clusterName"], svc["serviceName"]
        )
        if view is None or view.status != "ACTIVE":
            raise e.InvalidECSServiceException(
                f"The ECS service {svc['serviceName']} in cluster {svc['clusterName']} does not "
                "exist or is not ACTIVE (ecsServices)."
            )
        if view.deployment_controller != "CODE_DEPLOY":
            raise e.InvalidECSServiceException(
                f"The ECS service {svc['serviceName']} must use the CODE_DEPLOY deployment "
                "controller (ecsServices)."
            )
        for other in self.groups.values():
            same = other.ecs_services == group.ecs_services and (
                other.account_id, other.region) == (scope.account_id, scope.region)  # fmt: skip
            if same and (other.application_name, other.name) != (
                group.application_name, group.name,
            ):  # fmt: skip
                raise e.ECSServiceMappingLimitExceededException(
                    f"The ECS service {svc['serviceName']} is already in deployment group "
                    f"{other.name} of application {other.application_name}."
                )
        pair = group.pair
        arns = []
        for item in pair["targetGroups"]:
            arn = targets.target_group_arn(scope.account_id, scope.region, item["name"])
            if arn is None:
                raise e.InvalidTargetGroupPairException(
                    f"The target group {item['name']} does not exist (targetGroups)."
                )
            arns.append(arn)
        if view.target_group_arns and not set(view.target_group_arns) & set(arns):
            raise e.InvalidTargetGroupPairException(
                f"The ECS service {svc['serviceName']}'s target group is not in the target "
                "group pair (targetGroupPairInfoList.targetGroups)."
            )
        routes = [pair["prodTrafficRoute"], pair.get("testTrafficRoute") or {}]
        for route in routes:
            for listener in route.get("listenerArns") or []:
                if not targets.listener_exists(scope.account_id, scope.region, listener):
                    raise e.InvalidLoadBalancerInfoException(
                        f"The listener {listener} does not exist (listenerArns)."
                    )

    def create_group(self, scope: Scope, p: dict[str, Any]) -> DeploymentGroup:
        app = self.application(scope, p.get("applicationName"))
        name = validation.group_name(p.get("deploymentGroupName"))
        if scope.key(app.name, name) in self.groups:
            raise e.DeploymentGroupAlreadyExistsException(
                f"Deployment group {name} already exists for application {app.name}."
            )
        validation.not_for_ecs(p)
        group = DeploymentGroup(
            id=new_uuid(),
            name=name,
            application_name=app.name,
            account_id=scope.account_id,
            region=scope.region,
            compute_platform=app.compute_platform,
            deployment_config_name=self._ecs_config(scope, p.get("deploymentConfigName")),
            service_role_arn=str(p.get("serviceRoleArn") or ""),
            ecs_services=validation.ecs_services(p.get("ecsServices")),
            load_balancer_info=validation.load_balancer_info(p.get("loadBalancerInfo")),
            blue_green=validation.blue_green(p.get("blueGreenDeploymentConfiguration")),
            deployment_style=validation.deployment_style(p.get("deploymentStyle")),
            auto_rollback=validation.auto_rollback(p.get("autoRollbackConfiguration")),
            alarm_configuration=validation.alarm_configuration(p.get("alarmConfiguration")),
            tags=validation.tags(p.get("tags")),
        )
        self._check_ecs(scope, group)
        self.save_group(group)
        return group

    def update_group(self, scope: Scope, p: dict[str, Any]) -> DeploymentGroup:
        app_name = str(p.get("applicationName") or "")
        current = self.group(scope, app_name, p.get("currentDeploymentGroupName"))
        validation.not_for_ecs(p)
        updated = DeploymentGroup(**current.to_dict())
        new_name = p.get("newDeploymentGroupName")
        if new_name and new_name != current.name:
            validation.group_name(new_name, "newDeploymentGroupName")
            if scope.key(current.application_name, new_name) in self.groups:
                raise e.DeploymentGroupAlreadyExistsException(
                    f"Deployment group {new_name} already exists for application {app_name}."
                )
            updated.name = new_name
        if p.get("deploymentConfigName"):
            updated.deployment_config_name = self._ecs_config(scope, p["deploymentConfigName"])
        if p.get("serviceRoleArn"):
            updated.service_role_arn = str(p["serviceRoleArn"])
        if p.get("ecsServices") is not None:
            updated.ecs_services = validation.ecs_services(p["ecsServices"])
        if p.get("loadBalancerInfo") is not None:
            updated.load_balancer_info = validation.load_balancer_info(p["loadBalancerInfo"])
        if p.get("blueGreenDeploymentConfiguration") is not None:
            updated.blue_green = validation.blue_green(p["blueGreenDeploymentConfiguration"])
        if p.get("deploymentStyle") is not None:
            updated.deployment_style = validation.deployment_style(p["deploymentStyle"])
        if p.get("autoRollbackConfiguration") is not None:
            updated.auto_rollback = validation.auto_rollback(p["autoRollbackConfiguration"])
        if p.get("alarmConfiguration") is not None:
            updated.alarm_configuration = validation.alarm_configuration(p["alarmConfiguration"])
        self._check_ecs(scope, updated)
        if updated.name == current.name:
            self.save_group(updated)
            return updated
        # Renamed: the group under its new key and its deployments, in one transaction.
        old_key = scope.key(current.application_name, current.name)
        new_key = scope.key(updated.application_name, updated.name)
        moved = [
            d for d in self.deployments.values()
            if (d.account_id, d.region, d.application_name, d.group_name) == (
                scope.account_id, scope.region, current.application_name, current.name,
            )
        ]  # fmt: skip
        self.store.write(
            puts=[(GROUP_KIND, new_key, updated.to_dict())]
            + [(DEPLOYMENT_KIND, d.key, replace(d, group_name=updated.name).to_dict())
               for d in moved],
            deletes=[(GROUP_KIND, old_key)],
        )  # fmt: skip
        self.groups.pop(old_key, None)
        self.groups[new_key] = updated
        for d in moved:  # in place: controllers hold these
            d.group_name = updated.name
        return updated

    def delete_group(self, scope: Scope, app_name: str, name: str) -> None:
        validation.application_name(app_name)
        validation.group_name(name)
        key = scope.key(app_name, name)
        if key in self.groups:
            self.store.delete(GROUP_KIND, key)
            del self.groups[key]

    # -- deployments ----------------------------------------------------------------------

    def deployment(self, scope: Scope, deployment_id: str | None) -> Deployment:
        if not deployment_id or not deployment_id.startswith("d-"):
            raise e.InvalidDeploymentIdException(
                f"Specified DeploymentId is not in the valid format: {deployment_id}"
            )
        found = self.deployments.get(scope.key(deployment_id))
        if found is None:
            raise e.DeploymentDoesNotExistException(f"Deployment {deployment_id} does not exist.")
        return found

    def deployments_of(self, group: DeploymentGroup) -> list[Deployment]:
        return [
            d for d in self.deployments.values()
            if (d.account_id, d.region, d.application_name, d.group_name)
            == (group.account_id, group.region, group.application_name, group.name)
        ]  # fmt: skip

    def create_deployment(self, scope: Scope, p: dict[str, Any]) -> Deployment:
        app_name = str(p.get("applicationName") or "")
        self.application(scope, app_name)
        group = self.group(scope, app_name, p.get("deploymentGroupName"))
        for name in ("targetInstances", "fileExistsBehavior", "updateOutdatedInstancesOnly"):
            if p.get(name):
                raise e.InvalidInputException(f"{name} does not apply to ECS deployments ({name}).")
        active = [d for d in self.deployments_of(group) if not d.finished]
        if active:
            raise e.DeploymentLimitExceededException(
                f"The Deployment Group '{group.name}' already has an active Deployment "
                f"'{active[0].id}'"
            )
        revision = p.get("revision")
        spec = appspec.parse_ecs(appspec.content_of(revision))
        config_name = self._ecs_config(scope, p.get("deploymentConfigName")
                                       or group.deployment_config_name)  # fmt: skip
        config = self.config(scope, config_name)
        svc = group.ecs_services[0]
        service_arn = ""
        if self.targets is not None:
            taskdef = self.targets.task_definition_arn(
                scope.account_id, scope.region, spec.task_definition
            )
            if taskdef is None:
                raise e.InvalidRevisionException(
                    f"The task definition {spec.task_definition} named in the AppSpec does not "
                    "exist or is not ACTIVE (TaskDefinition)."
                )
            spec.task_definition = taskdef
            view = self.targets.ecs_service(
                scope.account_id, scope.region, svc["clusterName"], svc["serviceName"]
            )
            if view is None or view.status != "ACTIVE":
                raise e.InvalidInputException(
                    f"The ECS service {svc['serviceName']} of the deployment group does not "
                    "exist or is not ACTIVE."
                )
            service_arn = view.arn
        rollback = group.auto_rollback
        if p.get("autoRollbackConfiguration") is not None:
            rollback = validation.auto_rollback(p["autoRollbackConfiguration"])
        alarms = group.alarm_configuration
        override = p.get("overrideAlarmConfiguration")
        if override is not None and override.get("enabled"):
            alarms = validation.alarm_configuration(override)
        now = self.clock.now()
        deployment = Deployment(
            id=new_deployment_id(),
            account_id=scope.account_id,
            region=scope.region,
            application_name=group.application_name,
            group_name=group.name,
            config_name=config_name,
            revision=dict(revision or {}),
            appspec=spec,
            created=now,
            cluster=svc["clusterName"],
            service=svc["serviceName"],
            service_arn=service_arn,
            traffic_routing=dict(config.traffic_routing or {"type": "AllAtOnce"}),
            blue_green=dict(group.blue_green),
            load_balancer_info=dict(group.load_balancer_info),
            deployment_style=dict(group.deployment_style),
            auto_rollback=dict(rollback),
            alarm_configuration=dict(alarms),
            previous_revision=group.target_revision,
            description=validation.description(p.get("description")),
            events=[LifecycleEvent(name) for name in ECS_EVENTS],
            phase_since=now,
            target_updated=now,
        )
        group.target_revision = deployment.revision
        group.last_attempted = {"deploymentId": deployment.id, "status": deployment.status,
                                "createTime": now}  # fmt: skip
        self.save_group(group)
        self.save_deployment(deployment)
        log.info("codedeploy: deployment %s of %s/%s created", deployment.id, app_name,
                 group.name, extra={"deployment_id": deployment.id})  # fmt: skip
        return deployment

    def group_of(self, deployment: Deployment) -> DeploymentGroup | None:
        scope = Scope(deployment.account_id, deployment.region)
        return self.groups.get(scope.key(deployment.application_name, deployment.group_name))

    def record_outcome(self, deployment: Deployment) -> None:
        """The deployment group's lastAttempted / lastSuccessful deployment."""
        group = self.group_of(deployment)
        if group is None:
            return
        info = {"deploymentId": deployment.id, "status": deployment.status,
                "createTime": deployment.created, "endTime": deployment.complete}  # fmt: skip
        if group.last_attempted and group.last_attempted.get("deploymentId") == deployment.id:
            group.last_attempted = info
        if deployment.status == DeploymentStatus.SUCCEEDED:
            group.last_successful = info
        elif deployment.finished and group.last_successful:
            group.target_revision = deployment.previous_revision
        self.save_group(group)

    def stop(self, scope: Scope, deployment_id: str, rollback: bool | None) -> dict[str, str]:
        d = self.deployment(scope, deployment_id)
        if d.finished:
            raise e.DeploymentAlreadyCompletedException(
                f"The deployment {d.id} has already completed."
            )
        if rollback is None:
            rollback = bool(d.auto_rollback.get("enabled")) and (
                "DEPLOYMENT_STOP_ON_REQUEST" in (d.auto_rollback.get("events") or [])
            )
        if d.stop_requested is None:
            d.stop_requested = "MANUAL_STOP"
            d.stop_message = "The deployment was stopped by a user request."
            d.stop_rollback = rollback
            self.save_deployment(d)
        return {"status": "Pending", "statusMessage": STOP_MESSAGE}

    def continue_(self, scope: Scope, deployment_id: str, wait_type: str | None) -> None:
        d = self.deployment(scope, deployment_id)
        if d.finished:
            raise e.DeploymentAlreadyCompletedException(
                f"The deployment {d.id} has already completed."
            )
        wait_type = wait_type or "READY_WAIT"
        if wait_type == "READY_WAIT":
            if d.status != DeploymentStatus.READY:
                raise e.DeploymentIsNotInReadyStateException(
                    f"The deployment {d.id} is not in the Ready state."
                )
            d.continue_requested = True
        elif wait_type == "TERMINATION_WAIT":
            if not d.termination_wait_started:
                raise e.InvalidDeploymentStatusException(
                    f"The deployment {d.id} is not waiting to terminate the original task set."
                )
            d.skip_termination_wait = True
        else:
            raise e.InvalidDeploymentWaitTypeException(
                f"Invalid deploymentWaitType: {wait_type} (deploymentWaitType)."
            )
        self.save_deployment(d)
