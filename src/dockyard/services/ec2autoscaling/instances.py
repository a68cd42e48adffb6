"""Operations on a group's instances: health, scale-in protection, terminate, attach,
detach; and lifecycle hooks and their actions."""

from __future__ import annotations

from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import lifecycle
from dockyard.services.ec2autoscaling.errors import LimitExceeded, ValidationError
from dockyard.services.ec2autoscaling.model import (
    COUNTED,
    Group,
    GroupInstance,
    Health,
    HookResult,
    LifecycleHook,
    LifecycleState,
    Transition,
)
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

MAX_HOOKS = 50


def owner(asg: Ec2AutoScaling, scope: Scope, instance_id: str) -> Group | None:
    for group in asg.groups_of(scope):
        if instance_id in group.instances:
            return group
    return None


def _member(asg: Ec2AutoScaling, scope: Scope, instance_id: str) -> tuple[Group, GroupInstance]:
    group = owner(asg, scope, instance_id)
    if group is None:
        raise ValidationError(f"Instance Id not found - No managed instance found for instance "
                              f"ID: {instance_id}")  # fmt: skip
    copy = group.copy()
    return copy, copy.instances[instance_id]


def set_health(asg: Ec2AutoScaling, scope: Scope, instance_id: str, health: str,
               respect_grace: bool) -> None:  # fmt: skip
    if health not in ("Healthy", "Unhealthy"):
        raise ValidationError(f"Valid values for HealthStatus are Healthy and Unhealthy; got "
                              f"{health}.")  # fmt: skip
    group, inst = _member(asg, scope, instance_id)
    # The grace period starts when the instance comes into service; until it ends, a call that
    # respects it (the default) leaves the health as it is.
    if (
        respect_grace
        and group.grace_period > 0
        and (
            inst.in_service_at is None or asg.clock.now() - inst.in_service_at < group.grace_period
        )
    ):
        return
    inst.health = Health(health)
    asg.commit([group])


def set_protection(asg: Ec2AutoScaling, scope: Scope, name: str, ids: list[str],
                   protected: bool) -> None:  # fmt: skip
    group = asg.group(scope, name).copy()
    for instance_id in ids:
        inst = group.instances.get(instance_id)
        if inst is None:
            raise ValidationError(f"The instance {instance_id} is not part of Auto Scaling "
                                  f"group {name}.")  # fmt: skip
        inst.protected = protected
    asg.commit([group])


def terminate(asg: Ec2AutoScaling, scope: Scope, instance_id: str,
              decrement: bool) -> lifecycle.Change:  # fmt: skip
    group, inst = _member(asg, scope, instance_id)
    if inst.state not in COUNTED:
        return lifecycle.Change()  # already on its way out
    before = group.desired
    if decrement:
        if group.desired - 1 < group.min_size:
            raise ValidationError(f"Currently, desiredSize equals minSize ({group.min_size}). "
                                  "Terminating instance without replacement will violate group's "
                                  "min size constraint. Either set shouldDecrementDesiredCapacity "
                                  "flag to false or lower group's min size.")  # fmt: skip
        group.desired -= 1
        cause = (
            f"At {asg.stamp()} instance {instance_id} was taken out of service in response "
            f"to a user request, shrinking the capacity from {before} to {before - 1}."
        )
    else:
        cause = (f"At {asg.stamp()} instance {instance_id} was taken out of service in response "
                 "to a user request.")  # fmt: skip
    change = lifecycle.begin_terminate(asg, group, inst, cause)
    asg.commit([group], activities=change.activities, events=change.events)
    return change


def attach(asg: Ec2AutoScaling, scope: Scope, name: str, ids: list[str]) -> None:
    group = asg.group(scope, name).copy()
    if not ids:
        return
    if group.desired + len(ids) > group.max_size:
        # AWS raises the desired capacity by one per attached instance, within the bounds.
        raise ValidationError(f"Desired capacity:{group.desired + len(ids)} must be between "
                              f"the specified min size:{group.min_size} and max size:"
                              f"{group.max_size}")  # fmt: skip
    found = {s.instance_id: s for s in asg.fleet.describe(scope, ids)} if asg.fleet else {}
    change = lifecycle.Change()
    for instance_id in ids:
        status = found.get(instance_id)
        if status is None or status.state != "running":
            raise ValidationError(f"Instance {instance_id} is not in correct state (it must be "
                                  "running to be attached).")  # fmt: skip
        if owner(asg, scope, instance_id) is not None:
            raise ValidationError(f"The instance {instance_id} is already part of an Auto "
                                  "Scaling group.")  # fmt: skip
        if status.availability_zone not in group.zones:
            raise ValidationError(f"The instance {instance_id} is in zone "
                                  f"{status.availability_zone}, which is not a zone of the "
                                  f"group {name}.")  # fmt: skip
        before = group.desired
        group.desired += 1
        inst = GroupInstance(instance_id, status.availability_zone, status.subnet_id,
                             status.instance_type, status.launch_template_id, None,
                             status.launch_template_version or "", LifecycleState.PENDING,
                             status.launch_time or asg.clock.now())  # fmt: skip
        group.capacity_cause = (
            f"At {asg.stamp()} an instance was added in response to user "
            f"request. Keeping the capacity at the new {group.desired}."
        )
        change.add(lifecycle.launched(asg, group, inst, before))
        act = change.activities[-1]
        act.description = f"Attaching an existing EC2 instance: {instance_id}"
        act.cause = group.capacity_cause
    asg.commit([group], activities=change.activities, events=change.events)


def detach(asg: Ec2AutoScaling, scope: Scope, name: str, ids: list[str],
           decrement: bool) -> list[str]:  # fmt: skip
    """Activity ids of the detachments."""
    group = asg.group(scope, name).copy()
    change = lifecycle.Change()
    for instance_id in ids:
        inst = group.instances.get(instance_id)
        if inst is None:
            raise ValidationError(f"The instance {instance_id} is not part of Auto Scaling "
                                  f"group {name}.")  # fmt: skip
        if inst.state != LifecycleState.IN_SERVICE:
            raise ValidationError(f"The instance {instance_id} is not in InService or Standby "
                                  "state.")  # fmt: skip
        before = group.desired
        if decrement:
            if group.desired - 1 < group.min_size:
                raise ValidationError(f"Currently, desiredSize equals minSize "
                                      f"({group.min_size}). Detaching instance without "
                                      "replacement will violate group's min size constraint. "
                                      "Either set shouldDecrementDesiredCapacity flag to false "
                                      "or lower group's min size.")  # fmt: skip
            group.desired -= 1
            cause = (f"At {asg.stamp()} instance {instance_id} was detached in response to a "
                     f"user request, shrinking the capacity from {before} to "
                     f"{group.desired}.")  # fmt: skip
        else:
            cause = (f"At {asg.stamp()} instance {instance_id} was detached in response to a "
                     "user request.")  # fmt: skip
        change.add(lifecycle.begin_terminate(asg, group, inst, cause, detach=True))
    asg.commit([group], activities=change.activities, events=change.events)
    return [a.id for a in change.activities]


# -- lifecycle hooks ----------------------------------------------------------------------


def put_hook(asg: Ec2AutoScaling, scope: Scope, group_name: str, name: str,
             transition: Transition | None, timeout: int | None, result: HookResult | None,
             metadata: str | None, target: str | None, role: str | None) -> None:  # fmt: skip
    if target:
        # Lifecycle actions are announced on EventBridge only: a notification target that
        # nothing would deliver to is refused rather than silently ignored.
        raise ValidationError(
            "NotificationTargetARN is not supported by Dockyard: lifecycle "
            "actions are sent to EventBridge (source aws.autoscaling)."
        )
    group = asg.group(scope, group_name).copy()
    existing = group.hooks.get(name)
    if existing is None and len(group.hooks) >= MAX_HOOKS:
        raise LimitExceeded(f"Cannot exceed {MAX_HOOKS} lifecycle hooks per group.")
    if existing is None:
        if transition is None:
            raise ValidationError("A lifecycle transition is required for a new lifecycle hook.")
        hook = LifecycleHook(name, transition)
    else:
        hook = existing
        if transition is not None:
            hook.transition = transition
    if timeout is not None:
        hook.heartbeat_timeout = timeout
    if result is not None:
        hook.default_result = result
    if metadata is not None:
        hook.metadata = metadata
    if target is not None:
        hook.target_arn = target
    if role is not None:
        hook.role_arn = role
    group.hooks[name] = hook
    asg.commit([group])


def delete_hook(asg: Ec2AutoScaling, scope: Scope, group_name: str, name: str) -> None:
    group = asg.group(scope, group_name).copy()
    if name not in group.hooks:
        raise ValidationError(f"No Lifecycle Hook found with name {name} for group "
                              f"{group_name}")  # fmt: skip
    del group.hooks[name]
    change = lifecycle.Change()
    # Its outstanding actions complete first, as AWS documents: ABANDON for launching
    # instances, CONTINUE for terminating ones.
    for inst in sorted(group.instances.values(), key=lambda i: i.instance_id):
        if inst.hook_name == name and inst.action_token is not None:
            result = (HookResult.ABANDON if inst.state == LifecycleState.PENDING_WAIT
                      else HookResult.CONTINUE)  # fmt: skip
            change.add(lifecycle.complete_action(asg, group, inst, result))
    asg.commit([group], activities=change.activities, events=change.events)


def _waiting(
    asg: Ec2AutoScaling,
    scope: Scope,
    group_name: str,
    hook_name: str,
    token: str | None,
    instance_id: str | None,
) -> tuple[Group, GroupInstance]:
    group = asg.group(scope, group_name).copy()
    if hook_name not in group.hooks:
        raise ValidationError(f"No Lifecycle Hook found with name {hook_name} for group "
                              f"{group_name}")  # fmt: skip
    for inst in group.instances.values():
        if inst.hook_name != hook_name or inst.action_token is None:
            continue
        if (token and inst.action_token == token) or (
            not token and instance_id and inst.instance_id == instance_id
        ):
            return group, inst
    if token:
        raise ValidationError(f"No active Lifecycle Action found with token {token}")
    raise ValidationError(f"No active Lifecycle Action found with instance ID {instance_id}")


def complete(asg: Ec2AutoScaling, scope: Scope, group_name: str, hook_name: str,
             result: str, token: str | None, instance_id: str | None) -> None:  # fmt: skip
    if not token and not instance_id:
        raise ValidationError("Either LifecycleActionToken or InstanceId must be given.")
    if result not in ("CONTINUE", "ABANDON"):
        raise ValidationError(f"Valid values for LifecycleActionResult are CONTINUE and ABANDON; "
                              f"got {result}.")  # fmt: skip
    group, inst = _waiting(asg, scope, group_name, hook_name, token, instance_id)
    change = lifecycle.complete_action(asg, group, inst, HookResult(result))
    asg.commit([group], activities=change.activities, events=change.events)


def record_heartbeat(asg: Ec2AutoScaling, scope: Scope, group_name: str, hook_name: str,
                     token: str | None, instance_id: str | None) -> None:  # fmt: skip
    if not token and not instance_id:
        raise ValidationError("Either LifecycleActionToken or InstanceId must be given.")
    group, inst = _waiting(asg, scope, group_name, hook_name, token, instance_id)
    lifecycle.heartbeat(asg, group, inst)
    asg.commit([group])
