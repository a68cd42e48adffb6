"""Application Auto Scaling: scalable targets, scaling policies, scheduled actions and the
scaling activities they cause.

Ports (set by the composition root): `targets` reaches the scaled services (ECS service
desired count); `alarms` creates the CloudWatch alarms of target tracking policies. The
service is itself the `AlarmActions` port: an alarm whose action is a policy ARN calls
`invoke`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.ids import new_uuid
from dockyard.core.scaling import AlarmFiring, AlarmSpec, ManagedAlarms, ScalableTargets
from dockyard.services.autoscaling import planning
from dockyard.services.autoscaling.model import (
    Activity,
    Policy,
    ScalableTarget,
    ScheduledAction,
)
from dockyard.store.base import Store
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

TARGET_KIND = "autoscaling.target"
POLICY_KIND = "autoscaling.policy"
SCHEDULED_KIND = "autoscaling.scheduled"
ACTIVITY_KIND = "autoscaling.activity"
MAX_ACTIVITIES = 500
DEFAULT_COOLDOWN = 300.0
RECENT_PROPOSAL = 600.0  # seconds a target tracking proposal counts when policies disagree

PREDEFINED: dict[str, tuple[str, str, str]] = {
    "ECSServiceAverageCPUUtilization": ("AWS/ECS", "CPUUtilization", "Average"),
    "ECSServiceAverageMemoryUtilization": ("AWS/ECS", "MemoryUtilization", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}


class AutoScaling:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        scalable: ScalableTargets | None = None,
        alarms: ManagedAlarms | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.targets: dict[str, ScalableTarget] = {}
        self.policies: dict[str, Policy] = {}  # by ARN
        self.scheduled: dict[str, ScheduledAction] = {}  # by ARN
        self.activities: list[Activity] = []
        self.scalable = scalable
        self.alarms = alarms
        self.scheduled_hooks: list[Callable[[ScheduledAction], None]] = []

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(TARGET_KIND):
            self.targets[key] = ScalableTarget(**body)
        for key, body in self.store.load(POLICY_KIND):
            self.policies[key] = Policy(**body)
        for key, body in self.store.load(SCHEDULED_KIND):
            self.scheduled[key] = ScheduledAction(**body)
        for _key, body in self.store.load(ACTIVITY_KIND):
            self.activities.append(Activity(**body))
        self.activities.sort(key=lambda a: a.start)

    def reset(self) -> None:
        self.targets.clear()
        self.policies.clear()
        self.scheduled.clear()
        self.activities.clear()

    # -- persistence ---------------------------------------------------------------------

    def save_target(self, target: ScalableTarget) -> None:
        put_record(self.store, TARGET_KIND, target.key, target, lambda b: ScalableTarget(**b))
        self.targets[target.key] = target

    def save_policy(self, policy: Policy) -> None:
        put_record(self.store, POLICY_KIND, policy.arn, policy, lambda b: Policy(**b))
        self.policies[policy.arn] = policy

    def save_scheduled(self, action: ScheduledAction) -> None:
        put_record(self.store, SCHEDULED_KIND, action.arn, action, lambda b: ScheduledAction(**b))
        self.scheduled[action.arn] = action
        for hook in self.scheduled_hooks:
            hook(action)

    def delete_scheduled(self, action: ScheduledAction) -> None:
        self.store.delete(SCHEDULED_KIND, action.arn)
        self.scheduled.pop(action.arn, None)
        for hook in self.scheduled_hooks:
            hook(action)

    def delete_policy(self, policy: Policy) -> None:
        target = self.targets.get(policy.target_key)
        if self.alarms is not None and target is not None and policy.alarm_names:
            self.alarms.delete_alarms(target.account_id, target.region, policy.alarm_names)
        self.store.delete(POLICY_KIND, policy.arn)
        self.policies.pop(policy.arn, None)

    def delete_target(self, target: ScalableTarget) -> None:
        for policy in self.policies_of(target):
            self.delete_policy(policy)
        for action in [a for a in self.scheduled.values() if a.target_key == target.key]:
            self.delete_scheduled(action)
        self.store.delete(TARGET_KIND, target.key)
        self.targets.pop(target.key, None)

    def policies_of(self, target: ScalableTarget) -> list[Policy]:
        return [p for p in self.policies.values() if p.target_key == target.key]

    # -- capacity ------------------------------------------------------------------------

    def current(self, target: ScalableTarget) -> int | None:
        if self.scalable is None:
            return None
        cap = self.scalable.capacity(target.account_id, target.region, target.namespace,
                                     target.resource_id, target.dimension)  # fmt: skip
        return None if cap is None else cap.desired

    def scale(self, target: ScalableTarget, desired: int, cause: str) -> Activity | None:
        """Set the capacity (within min and max); records a scaling activity when it changes."""
        current = self.current(target)
        if current is None or self.scalable is None:
            return None
        desired = planning.clamp(desired, target.min_capacity, target.max_capacity)
        if desired == current:
            return None
        now = self.clock.now()
        noun = "desired count" if target.namespace == "ecs" else "capacity"
        activity = Activity(new_uuid(), target.key, f"Setting {noun} to {desired}.", cause, now,
                            None, "InProgress")  # fmt: skip
        try:
            self.scalable.set_capacity(target.account_id, target.region, target.namespace,
                                       target.resource_id, target.dimension, desired)  # fmt: skip
        except ValueError as exc:
            activity.status, activity.message = (
                "Failed",
                f"Failed to set {noun} to {desired}: {exc}",
            )
        else:
            activity.status = "Successful"
            activity.message = (f"Successfully set {noun} to {desired}. Change successfully "
                                f"fulfilled by {target.namespace}.")  # fmt: skip
            if desired > current:
                target.last_scale_out, target.last_scale_out_capacity = now, desired
            else:
                target.last_scale_in = now
            self.save_target(target)
        activity.end = self.clock.now()
        self.store.put(ACTIVITY_KIND, f"{activity.start:017.6f}-{activity.id}", activity.to_dict())
        self.activities.append(activity)
        del self.activities[:-MAX_ACTIVITIES]
        log.info("autoscaling: %s %s (%s)", target.resource_id, activity.message, cause,
                 extra={"resource_id": target.resource_id})  # fmt: skip
        return activity

    # -- AlarmActions port -----------------------------------------------------------

    def invoke(self, account_id: str, region: str, action_arn: str, firing: AlarmFiring) -> bool:
        policy = self.policies.get(action_arn)
        if policy is None:
            return action_arn.startswith("arn:aws:autoscaling:") and ":scalingPolicy:" in action_arn
        target = self.targets.get(policy.target_key)
        if target is None or firing.value is None:
            return True
        if firing.state != "ALARM":
            return True
        if target.suspended.get("DynamicScalingInSuspended") and target.suspended.get(
            "DynamicScalingOutSuspended"
        ):
            return True
        current = self.current(target)
        if current is None:
            return True
        cause = (f"monitor alarm {firing.alarm_name} in state ALARM triggered policy "
                 f"{policy.name}")  # fmt: skip
        if policy.policy_type == "StepScaling":
            self._step(target, policy, current, firing, cause)
        else:
            self._track(target, policy, current, firing, cause)
        return True

    def _step(self, target: ScalableTarget, policy: Policy, current: int, firing: AlarmFiring,
              cause: str) -> None:  # fmt: skip
        config = policy.config
        now = self.clock.now()
        cooldown = float(config.get("Cooldown", 0) or 0)
        if policy.last_run is not None and now - policy.last_run < cooldown:
            return
        delta = float(firing.value or 0.0) - float(firing.threshold or 0.0)
        wanted = planning.step_capacity(config, current, delta)
        if wanted is None:
            return
        if not self._allowed(target, current, wanted):
            return
        policy.last_run = now
        self.save_policy(policy)
        self.scale(target, wanted, cause)

    def _track(self, target: ScalableTarget, policy: Policy, current: int, firing: AlarmFiring,
               cause: str) -> None:  # fmt: skip
        config = policy.config
        now = self.clock.now()
        wanted = planning.tracking_capacity(current, float(firing.value or 0.0),
                                            float(config["TargetValue"]))  # fmt: skip
        policy.last_proposal, policy.last_proposal_at = wanted, now
        self.save_policy(policy)
        if wanted < current:
            if config.get("DisableScaleIn"):
                return
            cooldown = float(config.get("ScaleInCooldown", DEFAULT_COOLDOWN))
            if target.last_scale_in is not None and now - target.last_scale_in < cooldown:
                return
            # When policies disagree, the largest capacity wins.
            for other in self.policies_of(target):
                if other is policy or other.policy_type != "TargetTrackingScaling":
                    continue
                if (
                    other.last_proposal_at is not None
                    and now - other.last_proposal_at < RECENT_PROPOSAL
                ):
                    wanted = max(wanted, other.last_proposal or 0)
            wanted = min(wanted, current)
        elif wanted > current:
            cooldown = float(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN))
            in_cooldown = (target.last_scale_out is not None
                           and now - target.last_scale_out < cooldown)  # fmt: skip
            if in_cooldown and wanted <= (target.last_scale_out_capacity or 0):
                return
        if self._allowed(target, current, wanted):
            self.scale(target, wanted, cause)

    @staticmethod
    def _allowed(target: ScalableTarget, current: int, wanted: int) -> bool:
        if wanted > current and target.suspended.get("DynamicScalingOutSuspended"):
            return False
        return not (wanted < current and target.suspended.get("DynamicScalingInSuspended"))

    # -- target tracking alarms -------------------------------------------------------

    def tracking_alarms(self, target: ScalableTarget, policy: Policy) -> list[AlarmSpec]:
        config = policy.config
        metric = tracking_metric(target, config)
        value = float(config["TargetValue"])
        uid = new_uuid()
        base = f"TargetTracking-{target.resource_id}"
        common = {**metric, "AlarmActions": [policy.arn], "ActionsEnabled": True}
        high = AlarmSpec(f"{base}-AlarmHigh-{uid}", {
            **common, "EvaluationPeriods": 3, "DatapointsToAlarm": 3, "Threshold": value,
            "ComparisonOperator": "GreaterThanThreshold",
            "AlarmDescription": f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy "
                                f"{policy.arn}.",
        })  # fmt: skip
        specs = [high]
        if not config.get("DisableScaleIn"):
            specs.append(AlarmSpec(f"{base}-AlarmLow-{uid}", {
                **common, "EvaluationPeriods": 15, "DatapointsToAlarm": 15,
                "Threshold": value * 0.9, "ComparisonOperator": "LessThanThreshold",
                "AlarmDescription": high.params["AlarmDescription"],
            }))  # fmt: skip
        return specs


def tracking_metric(target: ScalableTarget, config: dict[str, Any]) -> dict[str, Any]:
    """The alarm metric of a target tracking configuration (PutMetricAlarm parameters)."""
    predefined = config.get("PredefinedMetricSpecification")
    if predefined is not None:
        kind = predefined["PredefinedMetricType"]
        namespace, name, stat = PREDEFINED[kind]
        if namespace == "AWS/ECS":
            _, cluster, service = target.resource_id.split("/", 2)
            dims = [{"Name": "ClusterName", "Value": cluster},
                    {"Name": "ServiceName", "Value": service}]  # fmt: skip
        else:
            label = predefined.get("ResourceLabel", "")
            tg = label.split("/targetgroup/", 1)[-1]
            dims = [{"Name": "TargetGroup", "Value": f"targetgroup/{tg}"}]
        return {"Namespace": namespace, "MetricName": name, "Statistic": stat, "Period": 60,
                "Dimensions": dims}  # fmt: skip
    custom = config["CustomizedMetricSpecification"]
    if custom.get("Metrics"):
        metrics = []
        for m in custom["Metrics"]:
            item: dict[str, Any] = {"Id": m["Id"], "ReturnData": m.get("ReturnData", True)}
            if "Expression" in m:
                item["Expression"] = m["Expression"]
            if "Label" in m:
                item["Label"] = m["Label"]
            if "MetricStat" in m:
                ms = m["MetricStat"]
                metric_stat: dict[str, Any] = {
                    "Metric": ms["Metric"],
                    "Stat": ms["Stat"],
                    "Period": 60,
                }
                if ms.get("Unit"):
                    metric_stat["Unit"] = ms["Unit"]
                item["MetricStat"] = metric_stat
            metrics.append(item)
        return {"Metrics": metrics}
    out = {"Namespace": custom["Namespace"], "MetricName": custom["MetricName"],
           "Statistic": custom["Statistic"], "Period": 60,
           "Dimensions": custom.get("Dimensions") or []}  # fmt: skip
    if custom.get("Unit"):
        out["Unit"] = custom["Unit"]
    return out
