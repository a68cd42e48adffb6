"""Instance refresh: StartInstanceRefresh's checks, the pure step that chooses the next
instances to replace (healthy capacity kept at MinHealthyPercentage of the desired
capacity, at least one at a time, pausing at checkpoints), and the refresh's wire shape."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dockyard.core.fleet import FleetError
from dockyard.core.ids import new_uuid
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling.errors import (
    ActiveInstanceRefreshNotFound,
    InstanceRefreshInProgress,
    ValidationError,
)
from dockyard.services.ec2autoscaling.model import (
    Group,
    GroupInstance,
    Health,
    InstanceRefresh,
    LifecycleState,
    Process,
    RefreshStatus,
)
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling
from dockyard.services.ec2autoscaling.validation import template_ref

MAX_KEPT = 50  # refreshes a group remembers

# Preferences Dockyard does not act on, with the value that asks for nothing.
UNSUPPORTED = {"AutoRollback": False, "AlarmSpecification": None, "BakeTime": 0,
               "StandbyInstances": None, "ScaleInProtectedInstances": "Ignore"}  # fmt: skip


def start(asg: Ec2AutoScaling, scope: Scope, name: str, p: dict[str, Any]) -> InstanceRefresh:
    group = asg.group(scope, name)
    if group.active_refresh() is not None:
        raise InstanceRefreshInProgress("An Instance Refresh is already in progress and blocks "
                                        "the execution of this Instance Refresh.")  # fmt: skip
    strategy = p.get("Strategy") or "Rolling"
    if strategy != "Rolling":
        raise ValidationError(f"Strategy {strategy} is not supported by Dockyard: use Rolling.")
    prefs = dict(p.get("Preferences") or {})
    for key, neutral in UNSUPPORTED.items():
        if prefs.get(key) is not None and prefs[key] != neutral:
            raise ValidationError(f"{key} is not supported by Dockyard's instance refresh.")
    low = int(prefs.get("MinHealthyPercentage", 90))
    high = int(prefs.get("MaxHealthyPercentage", 100))
    if not 0 <= low <= 100:
        raise ValidationError("MinHealthyPercentage must be between 0 and 100.")
    if high != 100:
        raise ValidationError("MaxHealthyPercentage other than 100 (launching before "
                              "terminating) is not supported by Dockyard.")  # fmt: skip
    checkpoints = [int(c) for c in prefs.get("CheckpointPercentages") or []]
    if checkpoints != sorted(set(checkpoints)) or any(not 1 <= c <= 100 for c in checkpoints):
        raise ValidationError("CheckpointPercentages must be ascending values from 1 to 100.")
    desired = p.get("DesiredConfiguration") or {}
    if desired.get("MixedInstancesPolicy") is not None:
        raise ValidationError("MixedInstancesPolicy is not supported by Dockyard: give a "
                              "LaunchTemplate instead.")  # fmt: skip
    ref = template_ref(desired)
    skip = bool(prefs.get("SkipMatching", False))
    tid, tname = group.template_id, group.template_name
    version = group.template_version
    if ref is not None:
        tid, tname, version = ref.template_id, ref.template_name, ref.version
    elif skip:
        raise ValidationError("SkipMatching requires a DesiredConfiguration.")
    if asg.fleet is None:
        raise ValidationError("No launch template exists without EC2.")
    try:
        found = asg.fleet.template(scope, tid, tname, version)
    except FleetError as exc:
        raise ValidationError(exc.message) from exc
    warmup = prefs.get("InstanceWarmup")
    refresh = InstanceRefresh(
        new_uuid(), RefreshStatus.PENDING, asg.clock.now(), min_healthy=low, max_healthy=high,
        warmup=int(warmup) if warmup is not None else group.grace_period,
        checkpoints=checkpoints, checkpoint_delay=int(prefs.get("CheckpointDelay", 3600)),
        skip_matching=skip, template_id=found.template_id if ref else None,
        template_name=found.template_name if ref else None,
        template_version=version if ref else None, resolved_version=str(found.version),
    )  # fmt: skip
    new = group.copy()
    if not skip:
        refresh.originals = sorted(i.instance_id for i in new.counted())
    refresh.to_update = len(outdated(new, refresh))
    new.refreshes = [*new.refreshes, refresh][-MAX_KEPT:]
    asg.commit([new])
    return refresh


def cancel(asg: Ec2AutoScaling, scope: Scope, name: str) -> str:
    group = asg.group(scope, name).copy()
    refresh = group.active_refresh()
    if refresh is None or refresh.status == RefreshStatus.CANCELLING:
        raise ActiveInstanceRefreshNotFound(f"No in progress or pending Instance Refresh found "
                                            f"for Auto Scaling group {name}")  # fmt: skip
    refresh.status = RefreshStatus.CANCELLING
    refresh.status_reason = "Cancelling the instance refresh at the user's request."
    asg.commit([group])
    return refresh.id


def outdated(group: Group, refresh: InstanceRefresh) -> list[GroupInstance]:
    """The instances still to replace: counted, not protected from scale in, and (with
    SkipMatching) not already of the desired template version, else in the group when the
    refresh started."""
    out = []
    for inst in group.counted():
        if inst.protected:
            continue
        if refresh.skip_matching:
            same = inst.template_id == refresh.template_id and (
                inst.template_version == refresh.resolved_version
            )
            if same:
                continue
        elif inst.instance_id not in refresh.originals:
            continue
        out.append(inst)
    return sorted(out, key=lambda i: (i.launched, i.instance_id))


@dataclass(slots=True)
class Step:
    take: list[str] = field(default_factory=list)  # to take out of service now
    status: RefreshStatus | None = None  # a new status
    reason: str = ""
    percentage: int = 0
    checkpoint: int | None = None  # a checkpoint reached now
    again_after: float | None = None


def step(group: Group, refresh: InstanceRefresh, now: float,
         serving: frozenset[str] | None = None) -> Step:  # fmt: skip
    """What the refresh does next (pure). `serving`: for a group of health check type ELB
    with target groups, the instances every one of its target groups reports healthy; an
    instance counts as healthy only once it is there too (as AWS waits for the ELB health
    check), besides InService, Healthy and past its warm-up."""
    old = outdated(group, refresh)
    counted = group.counted()
    healthy = [
        i
        for i in counted
        if _healthy(i, refresh, now) and (serving is None or i.instance_id in serving)
    ]
    in_flight = len(counted) < group.desired or len(healthy) < len(counted)
    done = max(0, refresh.to_update - len(old) - (group.desired - len(healthy)))
    pct = 100 if refresh.to_update == 0 else min(100, math.floor(100 * done / refresh.to_update))
    out = Step(percentage=pct)
    warming = [
        i.in_service_at + refresh.warmup - now
        for i in counted
        if i.in_service_at is not None and i.in_service_at + refresh.warmup > now
    ]
    if warming:
        out.again_after = min(warming)
    if refresh.status == RefreshStatus.CANCELLING:
        if not in_flight:
            out.status, out.reason = RefreshStatus.CANCELLED, "Cancelled by the user."
        return out
    if not old and not in_flight:
        out.status, out.percentage = RefreshStatus.SUCCESSFUL, 100
        return out
    if refresh.status == RefreshStatus.PENDING:
        out.status = RefreshStatus.IN_PROGRESS
    if group.is_suspended(Process.INSTANCE_REFRESH) or not old:
        return out
    passed = [c for c in refresh.checkpoints if c <= pct and c > refresh.checkpoint_done]
    if passed and not in_flight:
        out.checkpoint = passed[-1]
        out.reason = (f"Waiting for checkpoint {passed[-1]}% to pass its delay of "
                      f"{refresh.checkpoint_delay} seconds.")  # fmt: skip
        out.again_after = float(refresh.checkpoint_delay)
        return out
    if refresh.checkpoint_at is not None:
        left = refresh.checkpoint_at + refresh.checkpoint_delay - now
        if left > 0:
            out.again_after = left
            return out
    floor_count = math.ceil(group.desired * refresh.min_healthy / 100)
    batch = len(healthy) - floor_count
    if batch < 1 and not in_flight:
        batch = 1  # at least one at a time, as AWS replaces them
    healthy_ids = {i.instance_id for i in healthy}
    out.take = [i.instance_id for i in old if i.instance_id in healthy_ids][: max(0, batch)]
    return out


def _healthy(inst: GroupInstance, refresh: InstanceRefresh, now: float) -> bool:
    return (inst.state == LifecycleState.IN_SERVICE and inst.health == Health.HEALTHY
            and inst.in_service_at is not None
            and inst.in_service_at + refresh.warmup <= now)  # fmt: skip


def to_wire(group: Group, refresh: InstanceRefresh) -> dict[str, Any]:
    prefs: dict[str, Any] = {"MinHealthyPercentage": refresh.min_healthy,
                             "MaxHealthyPercentage": refresh.max_healthy,
                             "InstanceWarmup": refresh.warmup,
                             "CheckpointPercentages": refresh.checkpoints,
                             "CheckpointDelay": refresh.checkpoint_delay,
                             "SkipMatching": refresh.skip_matching, "AutoRollback": False,
                             "ScaleInProtectedInstances": "Ignore",
                             "StandbyInstances": "Ignore"}  # fmt: skip
    out: dict[str, Any] = {
        "InstanceRefreshId": refresh.id, "AutoScalingGroupName": group.name,
        "Status": refresh.status.value, "StartTime": refresh.start,
        "PercentageComplete": refresh.percentage, "InstancesToUpdate": max(
            0, refresh.to_update - len(refresh.replaced)),
        "ProgressDetails": {"LivePoolProgress": {
            "PercentageComplete": refresh.percentage,
            "InstancesToUpdate": max(0, refresh.to_update - len(refresh.replaced))}},
        "Preferences": prefs, "Strategy": "Rolling",
    }  # fmt: skip
    if refresh.status_reason:
        out["StatusReason"] = refresh.status_reason
    if refresh.end is not None:
        out["EndTime"] = refresh.end
    if refresh.template_id:
        out["DesiredConfiguration"] = {"LaunchTemplate": {
            "LaunchTemplateId": refresh.template_id,
            "LaunchTemplateName": refresh.template_name or "",
            "Version": refresh.template_version or "$Default"}}  # fmt: skip
    return out
