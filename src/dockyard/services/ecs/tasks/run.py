"""RunTask as a typed domain call: `run(ecs, scope, RunTaskRequest) -> RunResult`.

The RunTask operation and EventBridge's ECS target both call it, so a task an EventBridge
rule starts is checked, placed and created exactly as one a client starts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.core.taskpolicy import TaskPolicy
from dockyard.services.ecs.capacity.domain import launch_type_for, split
from dockyard.services.ecs.clusters.domain import Cluster
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.tasks import launch as task_launch
from dockyard.services.ecs.tasks.model import Task

if TYPE_CHECKING:
    from dockyard.services.ecs.service import Ecs

MAX_COUNT = 10


@dataclass(slots=True)
class RunTaskRequest:
    """What to run. `options` holds the rest of RunTask's input, by its AWS member names
    (overrides, networkConfiguration, placementConstraints, placementStrategy, tags,
    propagateTags, enableECSManagedTags, referenceId, platformVersion, ...)."""

    task_definition: str
    cluster: str | None = None
    count: int = 1
    launch_type: str | None = None
    capacity_provider_strategy: list[dict[str, Any]] = field(default_factory=list)
    started_by: str | None = None
    group: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # Whose task policy applies (docs/task-policy.md): the caller's access key; None, the
    # default policy (EventBridge targets).
    policy_key: str | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RunTaskRequest:
        """A request from RunTask's input (as parsed from the wire)."""
        rest = dict(params)
        return cls(
            task_definition=str(rest.pop("taskDefinition")),
            cluster=rest.pop("cluster", None),
            count=int(rest.pop("count", 1)),
            launch_type=rest.pop("launchType", None),
            capacity_provider_strategy=list(rest.pop("capacityProviderStrategy", None) or []),
            started_by=rest.pop("startedBy", None),
            group=rest.pop("group", None),
            options=rest,
        )

    def params(self) -> dict[str, Any]:
        """RunTask's input again, as the launch checks read it."""
        out = dict(self.options)
        out["taskDefinition"] = self.task_definition
        named = {
            "launchType": self.launch_type,
            "capacityProviderStrategy": self.capacity_provider_strategy or None,
            "startedBy": self.started_by,
            "group": self.group,
        }
        out.update({k: v for k, v in named.items() if v is not None})
        return out


@dataclass(slots=True)
class RunResult:
    """The tasks created (PROVISIONING, placed) and RunTask's failures (arn, reason, detail)."""

    tasks: list[Task] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


def run(ecs: Ecs, scope: Scope, request: RunTaskRequest) -> RunResult:
    """RunTask: check the request, place `count` tasks and create those that fit."""
    if not 1 <= request.count <= MAX_COUNT:
        raise InvalidParameterException(
            f"count must be between 1 and {MAX_COUNT} (count: {request.count})."
        )
    cluster = ecs.clusters.get(scope, request.cluster)
    p = request.params()
    policy = ecs.task_policies.for_key(request.policy_key)
    launch_type, provider = task_launch.launch_type_of(cluster, p)
    result = RunResult()
    if provider is None:
        launch = launch_of(ecs, scope, cluster, p, launch_type, provider, policy)
        result.tasks, result.failures = ecs.tasks.run(launch, request.count)
        return result
    # A capacity provider strategy: base first, then by weight, one launch per provider.
    raw = request.capacity_provider_strategy or cluster.default_capacity_provider_strategy
    items = ecs.capacity_providers.strategy_for(scope, cluster, raw, "capacityProviderStrategy")
    for name, n in Counter(split(items, request.count, {})).items():
        launch = launch_of(ecs, scope, cluster, p, launch_type_for(name), name, policy)
        # With managed scaling, tasks that fit nowhere wait in PROVISIONING for capacity.
        wait = ecs.capacity_providers.waits_for_capacity(scope, name)
        started, failed = ecs.tasks.run(launch, n, wait=wait)
        result.tasks += started
        result.failures += failed
    return result


def launch_of(
    ecs: Ecs, scope: Scope, cluster: Cluster, p: dict[str, Any], launch_type: str,
    provider: str | None, policy: TaskPolicy | None = None,
) -> task_launch.Launch:  # fmt: skip
    """RunTask or StartTask input, checked against the task definition: what to launch."""
    taskdef = ecs.taskdefs.resolve(scope, p["taskDefinition"], launchable=True)
    taskdef_tags: dict[str, str] = {}
    if p.get("propagateTags") == "TASK_DEFINITION":
        try:
            taskdef_tags = dict(ecs.tags_of(taskdef["taskDefinitionArn"]))
        except ServiceError:
            taskdef_tags = {}
    return task_launch.prepare(
        scope,
        cluster,
        taskdef,
        p,
        launch_type=launch_type,
        capacity_provider=provider,
        taskdef_tags=taskdef_tags,
        policy=policy,
    )
