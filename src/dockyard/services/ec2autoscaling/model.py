"""EC2 Auto Scaling's records: groups with their instances, lifecycle hooks and tags,
scaling policies and scaling activities."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dockyard.core.ids import arn
from dockyard.core.scope import Scope


class LifecycleState(StrEnum):
    PENDING = "Pending"
    PENDING_WAIT = "Pending:Wait"
    PENDING_PROCEED = "Pending:Proceed"
    IN_SERVICE = "InService"
    TERMINATING = "Terminating"
    TERMINATING_WAIT = "Terminating:Wait"
    TERMINATING_PROCEED = "Terminating:Proceed"
    TERMINATED = "Terminated"
    DETACHING = "Detaching"
    DETACHED = "Detached"


# The states in which an instance counts toward the group's capacity.
COUNTED = frozenset(
    {
        LifecycleState.PENDING,
        LifecycleState.PENDING_WAIT,
        LifecycleState.PENDING_PROCEED,
        LifecycleState.IN_SERVICE,
    }
)
LEAVING = frozenset(
    {
        LifecycleState.TERMINATING,
        LifecycleState.TERMINATING_WAIT,
        LifecycleState.TERMINATING_PROCEED,
        LifecycleState.TERMINATED,
    }
)


class Health(StrEnum):
    HEALTHY = "Healthy"
    UNHEALTHY = "Unhealthy"


class Process(StrEnum):
    LAUNCH = "Launch"
    TERMINATE = "Terminate"
    ADD_TO_LOAD_BALANCER = "AddToLoadBalancer"
    ALARM_NOTIFICATION = "AlarmNotification"
    AZ_REBALANCE = "AZRebalance"
    HEALTH_CHECK = "HealthCheck"
    INSTANCE_REFRESH = "InstanceRefresh"
    REPLACE_UNHEALTHY = "ReplaceUnhealthy"
    SCHEDULED_ACTIONS = "ScheduledActions"


class Transition(StrEnum):
    LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
    TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"


class HookResult(StrEnum):
    CONTINUE = "CONTINUE"
    ABANDON = "ABANDON"


class TerminationPolicy(StrEnum):
    DEFAULT = "Default"
    ALLOCATION_STRATEGY = "AllocationStrategy"
    OLDEST_LAUNCH_TEMPLATE = "OldestLaunchTemplate"
    OLDEST_LAUNCH_CONFIGURATION = "OldestLaunchConfiguration"
    CLOSEST_TO_NEXT_INSTANCE_HOUR = "ClosestToNextInstanceHour"
    NEWEST_INSTANCE = "NewestInstance"
    OLDEST_INSTANCE = "OldestInstance"


class ActivityStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    MID_LIFECYCLE_ACTION = "MidLifecycleAction"
    WAITING_FOR_ELB_CONNECTION_DRAINING = "WaitingForELBConnectionDraining"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


class RefreshStatus(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    CANCELLING = "Cancelling"
    CANCELLED = "Cancelled"


ACTIVE_REFRESH = frozenset({RefreshStatus.PENDING, RefreshStatus.IN_PROGRESS,
                            RefreshStatus.CANCELLING})  # fmt: skip


class PolicyType(StrEnum):
    SIMPLE = "SimpleScaling"
    STEP = "StepScaling"
    TARGET_TRACKING = "TargetTrackingScaling"


class AdjustmentType(StrEnum):
    CHANGE = "ChangeInCapacity"
    EXACT = "ExactCapacity"
    PERCENT = "PercentChangeInCapacity"


def group_key(scope: Scope, name: str) -> str:
    return scope.key("group", name)


def group_arn(scope: Scope, name: str, uid: str) -> str:
    return arn("autoscaling", scope.region, scope.account_id,
               f"autoScalingGroup:{uid}:autoScalingGroupName/{name}")  # fmt: skip


def scheduled_arn(scope: Scope, group: str, name: str, uid: str) -> str:
    return arn("autoscaling", scope.region, scope.account_id,
               f"scheduledUpdateGroupAction:{uid}:autoScalingGroupName/{group}:"
               f"scheduledActionName/{name}")  # fmt: skip


def policy_arn(scope: Scope, group: str, name: str, uid: str) -> str:
    return arn("autoscaling", scope.region, scope.account_id,
               f"scalingPolicy:{uid}:autoScalingGroupName/{group}:policyName/{name}")  # fmt: skip


@dataclass(slots=True)
class GroupInstance:
    instance_id: str
    zone: str
    subnet_id: str
    instance_type: str
    template_id: str | None
    template_name: str | None
    template_version: str
    state: LifecycleState
    launched: float
    health: Health = Health.HEALTHY
    protected: bool = False
    registered: bool = False  # in the group's target groups
    in_service_at: float | None = None
    # Why it is leaving (the cause of its termination activity) and that activity's id.
    cause: str = ""
    activity_id: str | None = None
    # The lifecycle action in progress (Pending:Wait, Terminating:Wait).
    hook_name: str | None = None
    action_token: str | None = None
    action_deadline: float | None = None
    action_global_deadline: float | None = None
    action_result: HookResult | None = None
    detach: bool = False  # leaving by DetachInstances: not terminated

    @staticmethod
    def from_dict(body: dict[str, Any]) -> GroupInstance:
        body = dict(body)
        body["state"] = LifecycleState(body["state"])
        body["health"] = Health(body["health"])
        if body.get("action_result") is not None:
            body["action_result"] = HookResult(body["action_result"])
        return GroupInstance(**body)


@dataclass(slots=True)
class LifecycleHook:
    name: str
    transition: Transition
    heartbeat_timeout: int = 3600
    default_result: HookResult = HookResult.ABANDON
    metadata: str | None = None
    target_arn: str | None = None
    role_arn: str | None = None

    @staticmethod
    def from_dict(body: dict[str, Any]) -> LifecycleHook:
        body = dict(body)
        body["transition"] = Transition(body["transition"])
        body["default_result"] = HookResult(body["default_result"])
        return LifecycleHook(**body)

    @property
    def global_timeout(self) -> int:
        return min(100 * self.heartbeat_timeout, 172800)


@dataclass(slots=True)
class Tag:
    key: str
    value: str
    propagate: bool = False


@dataclass(slots=True)
class InstanceRefresh:
    """A rolling replacement of a group's instances (StartInstanceRefresh)."""

    id: str
    status: RefreshStatus
    start: float
    min_healthy: int = 90
    max_healthy: int = 100
    warmup: int = 0
    checkpoints: list[int] = field(default_factory=list)
    checkpoint_delay: int = 3600
    skip_matching: bool = False
    # The desired configuration's launch template (None: the group's own), resolved.
    template_id: str | None = None
    template_name: str | None = None
    template_version: str | None = None  # as given
    resolved_version: str | None = None  # the number it stood for at the start
    to_update: int = 0
    # Without SkipMatching: the instances of the group when it started (all to replace).
    originals: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # instances it took out of service
    percentage: int = 0
    status_reason: str = ""
    end: float | None = None
    checkpoint_at: float | None = None  # when the current checkpoint was reached
    checkpoint_done: int = 0  # the highest checkpoint percentage passed

    @staticmethod
    def from_dict(body: dict[str, Any]) -> InstanceRefresh:
        body = dict(body)
        body["status"] = RefreshStatus(body["status"])
        return InstanceRefresh(**body)


@dataclass(slots=True)
class Group:
    name: str
    arn: str
    account_id: str
    region: str
    created: float
    min_size: int
    max_size: int
    desired: int
    template_id: str | None = None
    template_name: str | None = None
    template_version: str = "$Default"
    zones: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)  # in VPCZoneIdentifier order
    subnet_zones: dict[str, str] = field(default_factory=dict)
    health_check_type: str = "EC2"
    grace_period: int = 0
    default_cooldown: int = 300
    target_groups: list[str] = field(default_factory=list)
    released_target_groups: list[str] = field(default_factory=list)  # to deregister from
    termination_policies: list[str] = field(default_factory=lambda: ["Default"])
    protect_new: bool = False
    tags: list[Tag] = field(default_factory=list)
    suspended: dict[str, str] = field(default_factory=dict)  # process -> reason
    instances: dict[str, GroupInstance] = field(default_factory=dict)
    hooks: dict[str, LifecycleHook] = field(default_factory=dict)
    deleting: bool = False
    force_delete: bool = False
    # The cause the next launch or termination activity tells (who changed the capacity).
    capacity_cause: str = ""
    last_scaled: float | None = None  # simple scaling cooldowns
    launch_failures: int = 0
    service_linked_role: str = ""
    refreshes: list[InstanceRefresh] = field(default_factory=list)  # oldest first

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def key(self) -> str:
        return group_key(self.scope, self.name)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(body: dict[str, Any]) -> Group:
        body = dict(body)
        body["tags"] = [Tag(**t) for t in body.get("tags", [])]
        body["instances"] = {
            k: GroupInstance.from_dict(v) for k, v in body.get("instances", {}).items()
        }
        body["hooks"] = {k: LifecycleHook.from_dict(v) for k, v in body.get("hooks", {}).items()}
        body["refreshes"] = [InstanceRefresh.from_dict(r) for r in body.get("refreshes", [])]
        return Group(**body)

    def copy(self) -> Group:
        return Group.from_dict(self.to_dict())

    def counted(self) -> list[GroupInstance]:
        return [i for i in self.instances.values() if i.state in COUNTED and not i.detach]

    def hooks_for(self, transition: Transition) -> list[LifecycleHook]:
        return sorted((h for h in self.hooks.values() if h.transition == transition),
                      key=lambda h: h.name)  # fmt: skip

    def is_suspended(self, process: Process) -> bool:
        return process.value in self.suspended

    def active_refresh(self) -> InstanceRefresh | None:
        return next((r for r in self.refreshes if r.status in ACTIVE_REFRESH), None)


@dataclass(slots=True)
class Policy:
    arn: str
    name: str
    group_key: str
    group_name: str
    policy_type: PolicyType
    created: float
    adjustment_type: str | None = None
    scaling_adjustment: int | None = None
    min_adjustment_magnitude: int | None = None
    cooldown: int | None = None
    metric_aggregation_type: str | None = None
    step_adjustments: list[dict[str, Any]] = field(default_factory=list)
    estimated_warmup: int | None = None
    target_tracking: dict[str, Any] | None = None
    enabled: bool = True
    alarm_names: list[str] = field(default_factory=list)
    alarm_arns: list[str] = field(default_factory=list)
    last_run: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(body: dict[str, Any]) -> Policy:
        body = dict(body)
        body["policy_type"] = PolicyType(body["policy_type"])
        return Policy(**body)


@dataclass(slots=True)
class Activity:
    id: str
    group_key: str
    group_name: str
    description: str
    cause: str
    start: float
    status: ActivityStatus
    end: float | None = None
    progress: int = 0
    message: str = ""
    details: dict[str, str] = field(default_factory=dict)
    seq: int = 0  # creation order among activities of the same start time

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(body: dict[str, Any]) -> Activity:
        body = dict(body)
        body["status"] = ActivityStatus(body["status"])
        return Activity(**body)


@dataclass(slots=True)
class ScheduledAction:
    """A scheduled update of a group's MinSize / MaxSize / DesiredCapacity: once at `start`,
    or on a Unix cron `recurrence` (in `timezone`) between `start` and `end`."""

    arn: str
    name: str
    group_key: str
    group_name: str
    created: float
    start: float | None = None
    end: float | None = None
    recurrence: str | None = None
    timezone: str | None = None
    min_size: int | None = None
    max_size: int | None = None
    desired: int | None = None
    last_run: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(body: dict[str, Any]) -> ScheduledAction:
        return ScheduledAction(**body)
