"""The one instance state machine of a group: launched → Pending (→ Pending:Wait →
Pending:Proceed) → InService → Terminating (→ Terminating:Wait → Terminating:Proceed) →
Terminated, or Detaching → Detached. Each transition changes a copy of the group and returns
the activities and events it causes; the caller commits them together
(`Ec2AutoScaling.commit`), so the controller and the operations apply them the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dockyard.core.ids import arn, new_uuid
from dockyard.services.ec2autoscaling.model import (
    Activity,
    ActivityStatus,
    Group,
    GroupInstance,
    HookResult,
    LifecycleHook,
    LifecycleState,
    Transition,
)
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

DETAIL_TYPES = {
    Transition.LAUNCHING: "EC2 Instance-launch Lifecycle Action",
    Transition.TERMINATING: "EC2 Instance-terminate Lifecycle Action",
}


@dataclass(slots=True)
class Change:
    activities: list[Activity] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: Change) -> Change:
        self.activities += other.activities
        self.events += other.events
        return self


_DONE = frozenset({ActivityStatus.SUCCESSFUL, ActivityStatus.FAILED, ActivityStatus.CANCELLED})


def instance_arn(group: Group, instance_id: str) -> str:
    return arn("ec2", group.region, group.account_id, f"instance/{instance_id}")


def _activity(asg: Ec2AutoScaling, group: Group, inst: GroupInstance) -> Activity | None:
    if inst.activity_id is None:
        return None
    for act in asg.activities.get(group.key, []):
        if act.id == inst.activity_id:
            return Activity.from_dict(act.to_dict())
    return None


def _instance_event(asg: Ec2AutoScaling, group: Group, inst: GroupInstance, act: Activity,
                    detail_type: str) -> dict[str, Any]:  # fmt: skip
    detail = {
        "StatusCode": act.status.value, "Description": act.description,
        "AutoScalingGroupName": group.name, "ActivityId": act.id, "Details": act.details,
        "RequestId": act.id, "StatusMessage": act.message,
        "EndTime": asg.stamp(act.end if act.end is not None else asg.clock.now()),
        "EC2InstanceId": inst.instance_id, "StartTime": asg.stamp(act.start),
        "Cause": act.cause,
    }  # fmt: skip
    return asg.event(group, detail_type, detail, [instance_arn(group, inst.instance_id)])


def launched(asg: Ec2AutoScaling, group: Group, inst: GroupInstance, before: int) -> Change:
    """A new instance of the group (already started by EC2): Pending, with its activity."""
    now = asg.clock.now()
    inst.protected = group.protect_new
    group.instances[inst.instance_id] = inst
    # AWS words every launch of one batch alike: from the capacity before it to the desired.
    reason = (f"At {asg.stamp(now)} an instance was started in response to a difference "
              f"between desired and actual capacity, increasing the capacity from {before} to "
              f"{group.desired}.")  # fmt: skip
    cause = f"{group.capacity_cause}  {reason}" if group.capacity_cause else reason
    act = asg.activity(group, f"Launching a new EC2 instance: {inst.instance_id}", cause)
    act.details = {"Subnet ID": inst.subnet_id, "Availability Zone": inst.zone}
    act.progress = 50
    inst.activity_id = act.id
    return Change([act])


def launch_failed(asg: Ec2AutoScaling, group: Group, zone: str, subnet: str,
                  message: str) -> Change:  # fmt: skip
    now = asg.clock.now()
    cause = (f"At {asg.stamp(now)} an instance was started in response to a difference between "
             f"desired and actual capacity, increasing the capacity from "
             f"{len(group.counted())} to {group.desired}.")  # fmt: skip
    if group.capacity_cause:
        cause = f"{group.capacity_cause}  {cause}"
    act = asg.activity(group, "Launching a new EC2 instance.  Status Reason: " + message,
                       cause, ActivityStatus.FAILED)  # fmt: skip
    act.end, act.progress, act.message = now, 100, message
    act.details = {"Subnet ID": subnet, "Availability Zone": zone} if subnet else {
        "Availability Zone": zone}  # fmt: skip
    group.launch_failures += 1
    change = Change([act])
    fake = GroupInstance("", zone, subnet, "", None, None, "", LifecycleState.PENDING, now)
    change.events.append(_instance_event(asg, group, fake, act, "EC2 Instance Launch Unsuccessful"))
    change.events[-1]["resources"] = [group.arn]
    return change


def _wait(asg: Ec2AutoScaling, group: Group, inst: GroupInstance, hook: LifecycleHook,
          state: LifecycleState) -> Change:  # fmt: skip
    now = asg.clock.now()
    inst.state = state
    inst.hook_name = hook.name
    inst.action_token = new_uuid()
    inst.action_deadline = now + hook.heartbeat_timeout
    inst.action_global_deadline = now + hook.global_timeout
    inst.action_result = None
    detail: dict[str, Any] = {
        "LifecycleActionToken": inst.action_token, "AutoScalingGroupName": group.name,
        "LifecycleHookName": hook.name, "EC2InstanceId": inst.instance_id,
        "LifecycleTransition": hook.transition.value,
        "Origin": "EC2" if hook.transition == Transition.LAUNCHING else "AutoScalingGroup",
        "Destination": "AutoScalingGroup" if hook.transition == Transition.LAUNCHING else "EC2",
    }  # fmt: skip
    if hook.metadata:
        detail["NotificationMetadata"] = hook.metadata
    # As AWS sends it, the lifecycle action event names only the group among its resources.
    change = Change(events=[asg.event(group, DETAIL_TYPES[hook.transition], detail)])
    act = _activity(asg, group, inst)
    if act is not None:
        act.status = ActivityStatus.MID_LIFECYCLE_ACTION
        change.activities.append(act)
    return change


def _next_hook(group: Group, inst: GroupInstance, transition: Transition) -> LifecycleHook | None:
    hooks = group.hooks_for(transition)
    if inst.hook_name is None:
        return hooks[0] if hooks else None
    names = [h.name for h in hooks]
    if inst.hook_name not in names:
        return None
    i = names.index(inst.hook_name)
    return hooks[i + 1] if i + 1 < len(hooks) else None


def running(asg: Ec2AutoScaling, group: Group, inst: GroupInstance) -> Change:
    """EC2 says the instance runs: the launch hooks wait, or it goes in service."""
    hook = _next_hook(group, inst, Transition.LAUNCHING)
    if hook is not None:
        return _wait(asg, group, inst, hook, LifecycleState.PENDING_WAIT)
    inst.state = LifecycleState.PENDING_PROCEED
    return Change()


def in_service(asg: Ec2AutoScaling, group: Group, inst: GroupInstance) -> Change:
    now = asg.clock.now()
    inst.state = LifecycleState.IN_SERVICE
    inst.in_service_at = now
    inst.hook_name = inst.action_token = None
    inst.action_deadline = inst.action_global_deadline = None
    group.capacity_cause = ""
    group.launch_failures = 0
    change = Change()
    act = _activity(asg, group, inst)
    if act is not None:
        act.status, act.end, act.progress = ActivityStatus.SUCCESSFUL, now, 100
        change.activities.append(act)
        change.events.append(_instance_event(asg, group, inst, act,
                                             "EC2 Instance Launch Successful"))  # fmt: skip
    return change


def complete_action(asg: Ec2AutoScaling, group: Group, inst: GroupInstance,
                    result: HookResult) -> Change:  # fmt: skip
    """A lifecycle action ends (CompleteLifecycleAction or its timeout): the next hook waits,
    or the instance goes on (Pending:Proceed, Terminating:Proceed) or, abandoned on launch,
    is terminated."""
    launching = inst.state == LifecycleState.PENDING_WAIT
    if launching and result == HookResult.ABANDON:
        token = inst.action_token
        _clear_action(inst)
        change = Change()
        act = _activity(asg, group, inst)
        if act is not None:  # the launch is cancelled, in AWS's words
            act.status, act.end, act.progress = ActivityStatus.CANCELLED, asg.clock.now(), 100
            act.message = (f"Instance failed to complete user's Lifecycle Action: Lifecycle "
                           f"Action with token {token} was abandoned: Lifecycle Action "
                           "Completed with ABANDON Result")  # fmt: skip
            change.activities.append(act)
            inst.activity_id = None
        return change.add(begin_terminate(
            asg, group, inst, f"At {asg.stamp()} instance {inst.instance_id} was taken out of "
            "service in response to a launch lifecycle action that was abandoned.",
            hooks=False))  # fmt: skip
    transition = Transition.LAUNCHING if launching else Transition.TERMINATING
    hook = _next_hook(group, inst, transition) if result == HookResult.CONTINUE else None
    if hook is not None:
        return _wait(asg, group, inst, hook, inst.state)
    _clear_action(inst)
    inst.action_result = result
    inst.state = (LifecycleState.PENDING_PROCEED if launching
                  else LifecycleState.TERMINATING_PROCEED)  # fmt: skip
    act = _activity(asg, group, inst)
    change = Change()
    if act is not None:
        act.status = ActivityStatus.IN_PROGRESS
        change.activities.append(act)
    return change


def _clear_action(inst: GroupInstance) -> None:
    inst.hook_name = inst.action_token = None
    inst.action_deadline = inst.action_global_deadline = None


def expired(inst: GroupInstance, now: float) -> bool:
    """Whether the instance's lifecycle action ran out of time (its heartbeat timeout, or the
    global timeout that heartbeats cannot pass)."""
    if inst.action_token is None:
        return False
    deadlines = [d for d in (inst.action_deadline, inst.action_global_deadline) if d is not None]
    return bool(deadlines) and now >= min(deadlines)


def expire(asg: Ec2AutoScaling, group: Group) -> Change:
    """Complete, with their hook's DefaultResult, the actions whose time ran out."""
    now = asg.clock.now()
    change = Change()
    for inst in sorted(group.instances.values(), key=lambda i: i.instance_id):
        if expired(inst, now):
            hook = group.hooks.get(inst.hook_name or "")
            result = hook.default_result if hook is not None else HookResult.ABANDON
            change.add(complete_action(asg, group, inst, result))
    return change


def next_deadline(group: Group) -> float | None:
    """When the next lifecycle action of the group runs out of time."""
    found = [
        min(d for d in (i.action_deadline, i.action_global_deadline) if d is not None)
        for i in group.instances.values()
        if i.action_token is not None and (i.action_deadline or i.action_global_deadline)
    ]
    return min(found) if found else None


def heartbeat(asg: Ec2AutoScaling, group: Group, inst: GroupInstance) -> None:
    hook = group.hooks.get(inst.hook_name or "")
    timeout = hook.heartbeat_timeout if hook is not None else 3600
    deadline = asg.clock.now() + timeout
    inst.action_deadline = min(deadline, inst.action_global_deadline or deadline)


def begin_terminate(asg: Ec2AutoScaling, group: Group, inst: GroupInstance, cause: str,
                    *, hooks: bool = True, detach: bool = False) -> Change:  # fmt: skip
    """Take an instance out of service: Terminating (Detaching); the controller deregisters
    it, runs the terminate hooks and terminates it."""
    change = Change()
    previous = _activity(asg, group, inst)
    if previous is not None and previous.status not in _DONE:
        # A launch still in progress (or waiting on its hook) ends here.
        previous.status, previous.end, previous.progress = (
            ActivityStatus.CANCELLED, asg.clock.now(), 100)  # fmt: skip
        change.activities.append(previous)
    _clear_action(inst)
    inst.state = LifecycleState.DETACHING if detach else LifecycleState.TERMINATING
    inst.detach = detach
    inst.cause = cause
    if not hooks:
        inst.hook_name = "-"  # no terminate hooks: straight to Terminating:Proceed
    else:
        inst.hook_name = None
    description = (f"Detaching EC2 instance: {inst.instance_id}" if detach
                   else f"Terminating EC2 instance: {inst.instance_id}")  # fmt: skip
    act = asg.activity(group, description, cause)
    act.details = {"Subnet ID": inst.subnet_id, "Availability Zone": inst.zone}
    inst.activity_id = act.id
    change.activities.append(act)
    return change


def drained(asg: Ec2AutoScaling, group: Group, inst: GroupInstance) -> Change:
    """Out of its target groups: the terminate hooks wait, or it may go."""
    if inst.detach:
        return Change()
    if inst.hook_name == "-":
        inst.hook_name = None
        inst.state = LifecycleState.TERMINATING_PROCEED
        return Change()
    hook = _next_hook(group, inst, Transition.TERMINATING)
    if hook is not None:
        return _wait(asg, group, inst, hook, LifecycleState.TERMINATING_WAIT)
    inst.state = LifecycleState.TERMINATING_PROCEED
    return Change()


def gone(asg: Ec2AutoScaling, group: Group, inst: GroupInstance) -> Change:
    """Terminated by EC2 (or detached): it leaves the group."""
    now = asg.clock.now()
    group.instances.pop(inst.instance_id, None)
    change = Change()
    act = _activity(asg, group, inst)
    if act is not None:
        act.status, act.end, act.progress = ActivityStatus.SUCCESSFUL, now, 100
        change.activities.append(act)
        if not inst.detach:
            change.events.append(
                _instance_event(asg, group, inst, act, "EC2 Instance Terminate Successful")
            )
    inst.state = LifecycleState.DETACHED if inst.detach else LifecycleState.TERMINATED
    return change
