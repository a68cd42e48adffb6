"""Managed scaling, managed termination protection and managed draining of a capacity
provider: its `autoScalingGroupProvider` checked as ECS checks it, and what ECS keeps on the
Auto Scaling group for it.

- Managed scaling: for each cluster the provider is associated with, a target tracking
  policy `ECSManagedAutoScalingPolicy-<uuid>` on the metric `CapacityProviderReservation`
  (namespace `AWS/ECS/ManagedScaling`, dimensions `CapacityProviderName`, `ClusterName`),
  its target the provider's `targetCapacity`. The provider's record names the policies it
  wants (`managed_policies`); `sync` makes the group match (creates the missing ones,
  deletes ECS-managed ones nobody wants), so a failed call is repaired by the next sync.
- Managed draining: the lifecycle hook `ecs-managed-draining-termination-hook` on
  `autoscaling:EC2_INSTANCE_TERMINATING`.
"""

from __future__ import annotations

import logging
from typing import Any

from dockyard.core.autoscalinggroups import (
    TERMINATING_TRANSITION,
    AutoScalingGroups,
    GroupRequestRefused,
    GroupView,
    TrackingPolicy,
)
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.ecs.capacity.domain import CapacityProvider, ProviderStatus
from dockyard.services.ecs.clusters.domain import ClusterStatus
from dockyard.services.ecs.errors import ClientException, InvalidParameterException
from dockyard.services.ecs.service import Ecs

log = logging.getLogger(__name__)

POLICY_PREFIX = "ECSManagedAutoScalingPolicy-"
NAMESPACE = "AWS/ECS/ManagedScaling"
METRIC = "CapacityProviderReservation"
DRAINING_HOOK = "ecs-managed-draining-termination-hook"
DRAINING_HOOK_TIMEOUT = 3600  # seconds, heartbeat timeout of the hook ECS creates
ON_OFF = ("ENABLED", "DISABLED")

DEFAULTS: dict[str, int] = {
    "targetCapacity": 100,
    "minimumScalingStepSize": 1,
    "maximumScalingStepSize": 10000,
    "instanceWarmupPeriod": 300,
}
RANGES: dict[str, tuple[int, int]] = {
    "targetCapacity": (1, 100),
    "minimumScalingStepSize": (1, 10000),
    "maximumScalingStepSize": (1, 10000),
    "instanceWarmupPeriod": (0, 10000),
}
FIELD = "autoScalingGroupProvider"
MTP_INVALID = "The managed termination protection setting for the capacity provider is invalid."


def _on_off(value: Any, name: str) -> str:
    if value not in ON_OFF:
        raise InvalidParameterException(
            f"{name} must be ENABLED or DISABLED ({FIELD}.{name}: {value})."
        )
    return str(value)


def settings(asg: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The autoScalingGroupProvider to keep: `asg` over `current`, defaults filled in, values
    checked (ranges, ENABLED/DISABLED, termination protection needs managed scaling)."""
    merged = dict(current or {})
    merged.update({k: v for k, v in asg.items() if v is not None})
    scaling = dict((current or {}).get("managedScaling") or {})
    scaling.update({k: v for k, v in (asg.get("managedScaling") or {}).items() if v is not None})
    scaling["status"] = _on_off(scaling.get("status", "DISABLED"), "managedScaling.status")
    for name, default in DEFAULTS.items():
        value = scaling.get(name, default)
        low, high = RANGES[name]
        if not isinstance(value, int) or not low <= value <= high:
            raise InvalidParameterException(
                f"managedScaling.{name} must be an integer from {low} to {high} "
                f"({FIELD}.managedScaling.{name}: {value})."
            )
        scaling[name] = value
    if scaling["minimumScalingStepSize"] > scaling["maximumScalingStepSize"]:
        raise InvalidParameterException(
            "The minimum scaling step size cannot be greater than the maximum scaling step size "
            f"({FIELD}.managedScaling.minimumScalingStepSize)."
        )
    merged["managedScaling"] = scaling
    merged["managedTerminationProtection"] = _on_off(
        merged.get("managedTerminationProtection", "DISABLED"), "managedTerminationProtection"
    )
    merged["managedDraining"] = _on_off(merged.get("managedDraining", "ENABLED"),
                                        "managedDraining")  # fmt: skip
    if merged["managedTerminationProtection"] == "ENABLED" and scaling["status"] != "ENABLED":
        raise ClientException(
            f"{MTP_INVALID} To enable managed termination protection for a capacity provider, "
            "managed scaling must also be enabled."
        )
    return merged


def check_group(groups: AutoScalingGroups | None, scope: Scope, merged: dict[str, Any],
                owner: CapacityProvider | None, ecs: Ecs) -> GroupView | None:  # fmt: skip
    """The group `autoScalingGroupArn` names, checked against the settings; None when the
    server has no EC2 Auto Scaling (then managed scaling cannot be turned on)."""
    ref = str(merged.get("autoScalingGroupArn") or "")
    scaling = merged["managedScaling"]["status"] == "ENABLED"
    if groups is None:
        if scaling:
            raise InvalidParameterException(
                "Managed scaling needs EC2 Auto Scaling, which this server does not run "
                f"({FIELD}.managedScaling.status)."
            )
        return None
    group = groups.group(scope, ref)
    if group is None:
        raise ClientException(
            f"The specified Auto Scaling group {ref} could not be found "
            f"({FIELD}.autoScalingGroupArn)."
        )
    other = ecs.capacity_providers.using_group(scope, ref)
    if other is not None and (owner is None or other.arn != owner.arn):
        raise ClientException(
            f"The specified Auto Scaling group is already in use by capacity provider "
            f"{other.name} ({FIELD}.autoScalingGroupArn)."
        )
    if merged["managedTerminationProtection"] == "ENABLED" and not group.protect_new:
        raise ClientException(
            f"{MTP_INVALID} To enable managed termination protection for a capacity provider, "
            "the Auto Scaling group must have instance protection from scale in enabled."
        )
    return group


def wanted_clusters(ecs: Ecs, provider: CapacityProvider) -> list[str]:
    """The clusters that should have a managed scaling policy for `provider`."""
    if provider.status != ProviderStatus.ACTIVE:
        return []
    scaling = provider.auto_scaling_group_provider.get("managedScaling") or {}
    if scaling.get("status") != "ENABLED":
        return []
    prefix = provider.arn.split(":capacity-provider/")[0]
    return sorted(
        c.arn
        for c in ecs.clusters.by_arn.values()
        if c.status == ClusterStatus.ACTIVE
        and c.arn.startswith(prefix + ":cluster/")
        and provider.name in c.capacity_providers
    )


def plan_policies(ecs: Ecs, provider: CapacityProvider, renew: bool = False) -> bool:
    """Name the policies the provider should have (a new name for a new association, or for
    every one when `renew`: the target changed). Whether the record changed."""
    wanted = wanted_clusters(ecs, provider)
    current = {} if renew else dict(provider.managed_policies)
    policies = {c: current.get(c) or f"{POLICY_PREFIX}{new_uuid()}" for c in wanted}
    if policies == provider.managed_policies:
        return False
    provider.managed_policies = policies
    return True


def _tracking(provider: CapacityProvider, cluster_arn: str, name: str) -> TrackingPolicy:
    scaling = provider.auto_scaling_group_provider["managedScaling"]
    return TrackingPolicy(
        name=name,
        namespace=NAMESPACE,
        metric_name=METRIC,
        dimensions=(
            ("CapacityProviderName", provider.name),
            ("ClusterName", cluster_arn.rsplit("/", 1)[-1]),
        ),
        target=float(scaling["targetCapacity"]),
        warmup=int(scaling.get("instanceWarmupPeriod", 300)),
    )


def sync(ecs: Ecs, scope: Scope, provider: CapacityProvider) -> None:
    """Make the provider's group carry what ECS manages for it: the policies it names, no
    other ECS-managed policy, and the draining hook when managed draining is on. The record
    is saved first when the associations changed. Refusals are logged; the next sync retries."""
    groups = ecs.capacity_providers.groups
    if groups is None or not provider.group_name:
        return
    if plan_policies(ecs, provider):
        ecs.capacity_providers.save(provider)
    group = groups.group(scope, provider.group_name)
    if group is None:
        return
    active = provider.status == ProviderStatus.ACTIVE
    try:
        wanted = set(provider.managed_policies.values())
        for cluster_arn, name in sorted(provider.managed_policies.items()):
            if name not in group.policy_names:
                groups.put_tracking_policy(scope, group.name, _tracking(provider, cluster_arn,
                                                                        name))  # fmt: skip
                log.info("managed scaling policy %s put on %s", name, group.name,
                         extra={"arn": provider.arn})  # fmt: skip
        for name in group.policy_names:
            if name.startswith(POLICY_PREFIX) and name not in wanted:
                groups.delete_policy(scope, group.name, name)
        draining = active and provider.auto_scaling_group_provider.get("managedDraining") == (
            "ENABLED"
        )
        if draining and DRAINING_HOOK not in group.hook_names:
            groups.put_lifecycle_hook(scope, group.name, DRAINING_HOOK, TERMINATING_TRANSITION,
                                      DRAINING_HOOK_TIMEOUT, "CONTINUE")  # fmt: skip
        elif not draining and DRAINING_HOOK in group.hook_names:
            groups.delete_lifecycle_hook(scope, group.name, DRAINING_HOOK)
    except GroupRequestRefused as exc:
        log.warning("capacity provider %s: its group refused a change: %s", provider.name, exc,
                    extra={"arn": provider.arn})  # fmt: skip
        return
    if not active and provider.cleanup:
        provider.cleanup = False
        ecs.capacity_providers.save(provider)


def sync_scope(ecs: Ecs, scope: Scope) -> None:
    """`sync` every provider of the account and region (after an association changed)."""
    for provider in list(ecs.capacity_providers.by_arn.values()):
        parts = provider.arn.split(":")
        if (parts[4], parts[3]) != (scope.account_id, scope.region):
            continue
        if provider.status == ProviderStatus.ACTIVE or provider.cleanup:
            sync(ecs, scope, provider)
