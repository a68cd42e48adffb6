"""The server end of the agent link, in process: what the embedded agent calls.

Remote agents make the same calls over HTTP; the server's agent endpoint can serve them with
an `EmbeddedLink` too (one per server, shared by every agent), passing `managed_capacity=False`
for hosts that join as plain container instances.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Awaitable, Callable

from dockyard.core.agentlink import LogEvent, Registration, UnknownInstance
from dockyard.core.agentstats import ContainerStats
from dockyard.core.orphans import OrphanReport, OrphanVerdict
from dockyard.core.rolecredentials import RoleUnavailable, TemporaryCredentials
from dockyard.core.scope import Scope
from dockyard.core.taskspec import Assignment, DesiredStatus, TaskStatus
from dockyard.services.ecs.errors import ClientException
from dockyard.services.ecs.instances.domain import ContainerInstance, InstanceStatus
from dockyard.services.ecs.instances.ec2_identity import identity_fields
from dockyard.services.ecs.instances.registration import cluster_for_registration
from dockyard.services.ecs.instances.wire import record_instance_event
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks import roles as task_roles
from dockyard.services.ecs.tasks import secrets as task_secrets
from dockyard.services.ecs.tasks.model import StopCode

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT = "000000000000"
# The attribute by which a host joins a capacity provider (`dockyard agent --capacity-provider`).
CAPACITY_PROVIDER_ATTRIBUTE = "dockyard.capacity-provider"
DEFAULT_REGION = "us-east-1"


# Where container logs go (the logs service, wired by the server), called positionally as
# (account_id, region, group, stream, events, create_group): it creates the group when asked
# and missing, the stream when missing, and appends the events. Plain or async.
LogSink = Callable[[str, str, str, str, list[LogEvent], bool], Awaitable[None] | None]

# Where container stats go (the server's ECS metrics), called as (instance ARN, stats).
StatsSink = Callable[[str, list[ContainerStats]], None]


class UnknownInstanceError(ClientException, UnknownInstance):
    pass


class EmbeddedLink:
    """`ServerLink` backed directly by the ECS service object."""

    def __init__(
        self,
        ecs: Ecs,
        log_sink: LogSink,
        *,
        account_id: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        managed_capacity: bool = True,
        stats_sink: StatsSink | None = None,
    ) -> None:
        self.ecs = ecs
        self.log_sink = log_sink
        self.scope = Scope(account_id, region)
        # Hosts registered through this link run the FARGATE tasks (server-managed capacity).
        self.managed_capacity = managed_capacity
        self._seen: dict[str, int] = {}  # instance ARN -> change count at its last fetch
        self.last_heartbeat: dict[str, float] = {}
        self.stats_sink = stats_sink  # where container stats go (None: dropped)

    def _instance(self, instance_arn: str, *, registered: bool = True) -> ContainerInstance:
        instance = self.ecs.instances.by_arn.get(instance_arn)
        if instance is None:
            raise UnknownInstanceError(
                f"Unknown container instance {instance_arn}; register first."
            )
        if registered and instance.status == InstanceStatus.INACTIVE:
            raise ClientException(
                f"Container instance {instance_arn} has been deregistered; register again."
            )
        return instance

    def _connected(self, instance: ContainerInstance) -> None:
        self.last_heartbeat[instance.arn] = self.ecs.clock.now()
        if instance.status != InstanceStatus.INACTIVE and self.ecs.instances.set_connected(
            instance, True
        ):
            record_instance_event(self.ecs, instance)

    def _polled(self, instance: ContainerInstance) -> None:
        # The agent of a deregistered instance, which sends no heartbeats, still polls: it
        # counts as contact, so the instance is not let go while its agent is there.
        if instance.status == InstanceStatus.INACTIVE:
            self.last_heartbeat[instance.arn] = self.ecs.clock.now()

    async def register(self, registration: Registration, scope: Scope | None = None) -> str:
        """Register (or re-register) a host; in `scope` (an account and region) when the
        agent endpoint knows which from the agent's join token, else in this link's."""
        scope = scope or self.scope
        cluster = cluster_for_registration(self.ecs, scope, registration.cluster)
        identity = identity_fields(
            self.ecs.instances.identity_verifier,
            registration.identity_document,
            registration.identity_signature,
            dict(registration.attributes),
        )
        identity.setdefault("attributes", dict(registration.attributes))
        instance = self.ecs.instances.register(
            scope,
            cluster.arn,
            cpu=registration.cpu,
            memory=registration.memory,
            existing_arn=registration.container_instance_arn,
            hostname=registration.hostname,
            host_ip=registration.host_ip,
            agent_version=registration.agent_version,
            managed=self.managed_capacity,
            capacity_provider_name=registration.attributes.get(CAPACITY_PROVIDER_ATTRIBUTE),
            **identity,
        )
        self._seen.pop(instance.arn, None)
        self.ecs.instances.set_connected(instance, True)
        self.last_heartbeat[instance.arn] = self.ecs.clock.now()
        record_instance_event(self.ecs, instance)
        return instance.arn

    async def heartbeat(self, instance_arn: str) -> None:
        self._connected(self._instance(instance_arn))

    async def assignments(self, instance_arn: str, wait: float) -> list[Assignment]:
        # A deregistered instance still gets its tasks, desired STOPPED, until they stopped.
        instance = self._instance(instance_arn, registered=False)
        self._polled(instance)
        seen = self._seen.get(instance_arn)
        if seen is not None:
            await self.ecs.tasks.wait_for_change(instance_arn, seen, wait)
            self._polled(instance)
        self._seen[instance_arn] = self.ecs.tasks.change_count(instance_arn)
        tasks = self.ecs.tasks.assigned(instance_arn)
        assignments: list[Assignment] = []
        for t in tasks:
            spec = copy.deepcopy(t.spec)
            if t.desired_status == DesiredStatus.RUNNING:
                # As ECS: the roles are assumed, the secrets read as the execution role, then
                # the logger is validated (its stream created as the execution role).
                reason = None if t.delivered else task_roles.check(spec, self.ecs.role_credentials)
                reason = reason or await task_secrets.inject(
                    spec, self.ecs.secrets, self.ecs.registry_logins, self.ecs.objects
                )
                if reason is None and not t.delivered:
                    reason = task_roles.check_logs(spec, self.ecs.role_permissions)
                if reason is not None and not t.delivered:
                    # Before any container starts, as ECS does: the task never runs.
                    self.ecs.tasks.stop(t, StopCode.TASK_FAILED_TO_START, reason)
                    continue
                if reason is not None:  # already running there: the agent keeps its copy
                    log.debug("task %s: secrets no longer resolve", t.arn, extra={"arn": t.arn})
            assignments.append(
                Assignment(
                    spec=spec,
                    desired_status=DesiredStatus(t.desired_status),
                    stop_code=t.stop_code,
                    stopped_reason=t.stopped_reason,
                )
            )
        self.ecs.tasks.mark_delivered([t for t in tasks if not t.is_stopped])
        return assignments + self.ecs.orphans.stop_assignments(instance_arn)

    async def report(self, instance_arn: str, statuses: list[TaskStatus]) -> None:
        instance = self._instance(instance_arn, registered=False)
        self._connected(instance)
        for status in statuses:
            if not self.ecs.orphans.reported(status):
                self.ecs.tasks.apply(instance_arn, status)

    async def orphans(self, instance_arn: str, reports: list[OrphanReport]) -> list[OrphanVerdict]:
        """Tasks the agent runs that this server did not list: stop, keep, or orphaned."""
        instance = self._instance(instance_arn, registered=False)
        self._connected(instance)
        return self.ecs.orphans.classify(instance_arn, reports)

    async def task_credentials(self, instance_arn: str, task_arn: str) -> TemporaryCredentials:
        """The task role credentials of `task_arn`, for the agent of the instance it runs
        on only, while the task is not stopped."""
        self._instance(instance_arn, registered=False)
        task = self.ecs.tasks.by_arn.get(task_arn)
        if task is None or task.host_arn != instance_arn or task.is_stopped:
            raise task_roles.NoTaskRole(
                f"task {task_arn} is not running on container instance {instance_arn}"
            )
        try:
            return task_roles.issue(task.spec, self.ecs.role_credentials)
        except RoleUnavailable as exc:
            raise task_roles.RoleNotAssumable(str(exc)) from exc

    async def put_logs(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: list[LogEvent],
        create_group: bool,
    ) -> None:
        result = self.log_sink(account_id, region, group, stream, events, create_group)
        if inspect.isawaitable(result):
            await result

    async def report_stats(self, instance_arn: str, stats: list[ContainerStats]) -> None:
        self._instance(instance_arn, registered=False)
        if self.stats_sink is not None:
            self.stats_sink(instance_arn, stats)

    def agent_stopped(self, instance_arn: str) -> None:
        """The agent on `instance_arn` went away (the embedded agent stopped with the server)."""
        instance = self.ecs.instances.by_arn.get(instance_arn)
        self._seen.pop(instance_arn, None)
        if instance is not None and self.ecs.instances.set_connected(instance, False):
            record_instance_event(self.ecs, instance)
