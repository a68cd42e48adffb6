"""What ECS capacity providers ask of EC2 Auto Scaling, without importing it: read a group
and its instances, keep the target tracking policy and the lifecycle hook ECS manages on it,
protect instances from scale-in, and complete the lifecycle actions of instances ECS drained.
`services/ec2autoscaling/ports.py` implements `AutoScalingGroups`; the composition root hands
it to ECS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dockyard.core.scope import Scope

IN_SERVICE = "InService"
TERMINATING_WAIT = "Terminating:Wait"
TERMINATING_TRANSITION = "autoscaling:EC2_INSTANCE_TERMINATING"


class GroupRequestRefused(Exception):
    """EC2 Auto Scaling refused a request; `code` and `message` are its own
    (ValidationError, LimitExceeded, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class GroupMember:
    instance_id: str
    lifecycle_state: str  # InService, Pending, Terminating:Wait, ... (AWS's words)
    protected: bool
    instance_type: str = ""
    # The lifecycle hook the instance waits on (Pending:Wait, Terminating:Wait), if any.
    waiting_hook: str | None = None


@dataclass(frozen=True, slots=True)
class GroupView:
    name: str
    arn: str
    min_size: int
    max_size: int
    desired: int
    protect_new: bool  # NewInstancesProtectedFromScaleIn
    members: tuple[GroupMember, ...] = ()
    policy_names: tuple[str, ...] = ()
    hook_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TrackingPolicy:
    """A target tracking policy on a customized metric, as ECS creates it."""

    name: str
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    target: float
    statistic: str = "Average"
    warmup: int | None = None
    disable_scale_in: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class AutoScalingGroups(Protocol):
    def group(self, scope: Scope, name_or_arn: str) -> GroupView | None:
        """The group of this name or ARN, or None when it does not exist."""
        ...

    def put_tracking_policy(self, scope: Scope, group: str, policy: TrackingPolicy) -> str:
        """Create or replace the policy (and its alarms); its ARN. Raises
        GroupRequestRefused."""
        ...

    def delete_policy(self, scope: Scope, group: str, name: str) -> None:
        """Delete the policy and its alarms; a group or policy already gone is no error."""
        ...

    def put_lifecycle_hook(self, scope: Scope, group: str, name: str, transition: str,
                           heartbeat_timeout: int, default_result: str) -> None:  # fmt: skip
        """Create or update a lifecycle hook. Raises GroupRequestRefused."""
        ...

    def delete_lifecycle_hook(self, scope: Scope, group: str, name: str) -> None:
        """Delete a lifecycle hook; a group or hook already gone is no error."""
        ...

    def set_protection(self, scope: Scope, group: str, instance_ids: Sequence[str],
                       protected: bool) -> None:  # fmt: skip
        """SetInstanceProtection. Raises GroupRequestRefused."""
        ...

    def complete_lifecycle_action(self, scope: Scope, group: str, hook: str, instance_id: str,
                                  result: str) -> None:  # fmt: skip
        """CompleteLifecycleAction by instance id. Raises GroupRequestRefused."""
        ...
