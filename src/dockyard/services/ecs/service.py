"""The ECS service: its domains, wired together, for every account and region."""

from __future__ import annotations

from dockyard.core.clock import Clock
from dockyard.core.discovery import ServiceRegistries
from dockyard.core.envfiles import ObjectSource
from dockyard.core.loadbalancing import TargetGroups
from dockyard.core.registryauth import RegistryLogins
from dockyard.core.rolecredentials import RoleCredentialIssuer, RolePermissions
from dockyard.core.secrets import SecretSource
from dockyard.core.taskpolicy import TaskPolicies
from dockyard.services.ecs.capacity.domain import CapacityProviders
from dockyard.services.ecs.clusters.domain import Cluster, Clusters, ClusterStatus
from dockyard.services.ecs.deployments.domain import Services
from dockyard.services.ecs.deployments.model import ServiceStatus
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.events import EventLog
from dockyard.services.ecs.instances.domain import REGISTERED_STATUSES, Instances, InstanceStatus
from dockyard.services.ecs.instances.orphans import Orphans
from dockyard.services.ecs.state import EcsDomain
from dockyard.services.ecs.taskdefs.domain import TaskDefinitions
from dockyard.services.ecs.tasks.domain import Tasks
from dockyard.store.base import Store


class Ecs:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        target_groups: TargetGroups | None = None,
        service_registries: ServiceRegistries | None = None,
        secrets: SecretSource | None = None,
        objects: ObjectSource | None = None,
        task_policies: TaskPolicies | None = None,
        registry_logins: RegistryLogins | None = None,
        role_credentials: RoleCredentialIssuer | None = None,
        role_permissions: RolePermissions | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.clusters = Clusters(store, clock)
        self.taskdefs = TaskDefinitions(store, clock)
        self.domains: list[EcsDomain] = [self.clusters]
        self.domains.append(self.taskdefs)
        # State-change events (ECS Task State Change, ...) for the event bus.
        self.events = EventLog()
        self.instances = Instances(store, clock)
        self.tasks = Tasks(store, clock, instances=self.instances, events=self.events)
        self.domains.extend([self.instances, self.tasks])
        self.services = Services(store, clock)
        self.services.events = self.events
        # Load balancer target groups (the ELBv2 service), when the server wires them.
        self.target_groups = target_groups
        # Cloud Map services (service discovery), when the server wires them.
        self.service_registries = service_registries
        # Where containers' `secrets` are read (SSM and Secrets Manager), when the server
        # wires them; without, a task with secrets stops before it starts.
        self.secrets = secrets
        # Registry credentials for images in this server's own registry (ECR).
        self.registry_logins = registry_logins
        # Where a task role's temporary credentials come from (STS), when the server wires
        # it; without, a task with a taskRoleArn stops before it starts.
        self.role_credentials = role_credentials
        # What a task's execution role may do (its awslogs streams), where policies are
        # enforced; None: nothing is checked.
        self.role_permissions = role_permissions
        # Where containers' `environmentFiles` in S3 are read, when the server wires S3.
        self.objects = objects
        self.domains.append(self.services)
        self.capacity_providers = CapacityProviders(store, clock)
        self.domains.append(self.capacity_providers)
        # Tasks agents run that this server does not know (after a reset, a restore).
        self.orphans = Orphans(store, clock, self.tasks)
        self.domains.append(self.orphans)
        # What tasks may ask of a host (root, privileged, host paths, ...), per access key;
        # the server passes the operator's (docs/task-policy.md). By default: nothing.
        self.task_policies = task_policies or TaskPolicies()

    def load(self) -> None:
        for domain in self.domains:
            domain.load()

    def reset(self) -> None:
        for domain in self.domains:
            domain.reset()

    # Cross-domain questions, answered by the domains that know. Domains added later
    # (task definitions, container instances, tasks, services) extend these.

    def cluster_counts(self, cluster: Cluster) -> dict[str, int]:
        running, pending = self.tasks.counts(cluster.arn)
        instances = self.instances.in_cluster(cluster.arn, REGISTERED_STATUSES)
        return {
            "registeredContainerInstancesCount": len(instances),
            "runningTasksCount": running,
            "pendingTasksCount": pending,
            "activeServicesCount": len(self.services.in_cluster(cluster.arn)),
        }

    def tags_of(self, resource_arn: str) -> dict[str, str]:
        """The live tag dict of any taggable ECS resource (mutated in place by TagResource)."""
        cluster = self.clusters.by_arn.get(resource_arn)
        if cluster is not None and cluster.status == ClusterStatus.ACTIVE:
            return cluster.tags
        taskdef = self.taskdefs.by_arn.get(resource_arn)
        if taskdef is not None:
            return taskdef.tags
        task = self.tasks.by_arn.get(resource_arn)
        if task is not None:
            return task.tags
        instance = self.instances.by_arn.get(resource_arn)
        if instance is not None and instance.status != InstanceStatus.INACTIVE:
            return instance.tags
        service = self.services.by_arn.get(resource_arn)
        if service is not None and service.status != ServiceStatus.INACTIVE:
            return service.tags
        raise InvalidParameterException(f"The specified resource is not found: {resource_arn}")

    def save_tagged(self, resource_arn: str) -> None:
        cluster = self.clusters.by_arn.get(resource_arn)
        if cluster is not None:
            self.clusters.save(cluster)
        taskdef = self.taskdefs.by_arn.get(resource_arn)
        if taskdef is not None:
            self.taskdefs.save(taskdef)
        task = self.tasks.by_arn.get(resource_arn)
        if task is not None:
            self.tasks.save(task)
        instance = self.instances.by_arn.get(resource_arn)
        if instance is not None:
            self.instances.save(instance)
        service = self.services.by_arn.get(resource_arn)
        if service is not None:
            self.services.save(service, notify=False)
