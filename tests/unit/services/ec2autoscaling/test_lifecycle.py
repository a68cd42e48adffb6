"""Lifecycle hooks: the wait states, their completion, heartbeats and timeouts on a manual
clock, and the EventBridge events AWS sends for them."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.ec2autoscaling import instances, lifecycle
from dockyard.services.ec2autoscaling.model import GroupInstance
from dockyard.services.ec2autoscaling.validation import hook_fields
from tests.unit.services.ec2autoscaling.fakes import (
    SCOPE,
    World,
    add_instance,
    make_group,
    proceed,
    world,
)

LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"


def hook(w: World, name: str, transition: str, **p: Any) -> None:
    kind, timeout, result = hook_fields({"LifecycleTransition": transition, **p}, False)
    instances.put_hook(w.asg, SCOPE, "web", name, kind, timeout, result,
                       p.get("NotificationMetadata"), None, None)  # fmt: skip


def state(w: World, iid: str) -> str:
    found = w.asg.group(SCOPE, "web").instances.get(iid)
    return "gone" if found is None else found.state.value


def member(w: World, iid: str) -> GroupInstance:
    return w.asg.group(SCOPE, "web").instances[iid]


def tick(w: World) -> None:
    """The controller's look at the group's lifecycle actions: time-outs complete."""
    group = w.asg.group(SCOPE, "web").copy()
    change = lifecycle.expire(w.asg, group)
    w.asg.commit([group], activities=change.activities, events=change.events)


def drained(w: World, iid: str) -> None:
    group = w.asg.group(SCOPE, "web").copy()
    change = lifecycle.drained(w.asg, group, group.instances[iid])
    w.asg.commit([group], activities=change.activities, events=change.events)


def gone(w: World, iid: str) -> None:
    group = w.asg.group(SCOPE, "web").copy()
    change = lifecycle.gone(w.asg, group, group.instances[iid])
    w.asg.commit([group], activities=change.activities, events=change.events)


def activity(w: World, description: str) -> Any:
    group = w.asg.group(SCOPE, "web")
    return next(a for a in w.asg.activities[group.key] if a.description == description)


def test_a_launch_waits_for_its_hook_and_goes_in_service_on_continue() -> None:
    w = world()
    make_group(w)
    hook(w, "ready", LAUNCHING, NotificationMetadata="hello")
    add_instance(w, "web", "i-1", in_service=False)
    assert state(w, "i-1") == "Pending:Wait"
    launch = activity(w, "Launching a new EC2 instance: i-1")
    assert launch.status == "MidLifecycleAction"
    [event] = w.events()
    group = w.asg.group(SCOPE, "web")
    assert event["source"] == "aws.autoscaling"
    assert event["detail-type"] == "EC2 Instance-launch Lifecycle Action"
    assert event["resources"] == [group.arn]
    token = member(w, "i-1").action_token
    assert event["detail"] == {
        "LifecycleActionToken": token, "AutoScalingGroupName": "web",
        "LifecycleHookName": "ready", "EC2InstanceId": "i-1",
        "LifecycleTransition": LAUNCHING, "NotificationMetadata": "hello",
        "Origin": "EC2", "Destination": "AutoScalingGroup",
    }  # fmt: skip
    instances.complete(w.asg, SCOPE, "web", "ready", "CONTINUE", token, None)
    assert state(w, "i-1") == "Pending:Proceed"
    proceed(w, "web", "i-1")
    assert state(w, "i-1") == "InService"
    launch = activity(w, "Launching a new EC2 instance: i-1")
    assert launch.status == "Successful" and launch.progress == 100
    assert launch.cause.endswith("an instance was started in response to a difference between "
                                 "desired and actual capacity, increasing the capacity from 0 "
                                 "to 1.")  # fmt: skip
    assert [e["detail-type"] for e in w.events()][-1] == "EC2 Instance Launch Successful"


def test_hooks_of_one_transition_wait_in_turn() -> None:
    w = world()
    make_group(w)
    hook(w, "a-first", LAUNCHING)
    hook(w, "b-second", LAUNCHING)
    add_instance(w, "web", "i-1", in_service=False)
    assert member(w, "i-1").hook_name == "a-first"
    instances.complete(w.asg, SCOPE, "web", "a-first", "CONTINUE", None, "i-1")
    assert (state(w, "i-1"), member(w, "i-1").hook_name) == ("Pending:Wait", "b-second")
    instances.complete(w.asg, SCOPE, "web", "b-second", "CONTINUE", None, "i-1")
    assert state(w, "i-1") == "Pending:Proceed"


def test_heartbeat_timeout_completes_with_the_default_result() -> None:
    w = world()
    make_group(w)
    hook(w, "ready", LAUNCHING, HeartbeatTimeout=60, DefaultResult="CONTINUE")
    add_instance(w, "web", "i-1", in_service=False)
    w.clock.advance(59)
    tick(w)
    assert state(w, "i-1") == "Pending:Wait"
    instances.record_heartbeat(w.asg, SCOPE, "web", "ready", None, "i-1")  # 60 s more from now
    w.clock.advance(59)
    tick(w)
    assert state(w, "i-1") == "Pending:Wait"
    w.clock.advance(1)
    tick(w)
    assert state(w, "i-1") == "Pending:Proceed"


def test_heartbeats_cannot_pass_the_global_timeout() -> None:
    w = world()
    make_group(w)
    hook(w, "ready", LAUNCHING, HeartbeatTimeout=30, DefaultResult="CONTINUE")
    add_instance(w, "web", "i-1", in_service=False)
    assert lifecycle.next_deadline(w.asg.group(SCOPE, "web")) == w.clock.now() + 30
    for _ in range(99):  # 100 x HeartbeatTimeout = 3000 s in all
        w.clock.advance(29)
        instances.record_heartbeat(w.asg, SCOPE, "web", "ready", None, "i-1")
        tick(w)
    assert state(w, "i-1") == "Pending:Wait"
    w.clock.advance(3000 - 99 * 29)
    tick(w)
    assert state(w, "i-1") == "Pending:Proceed"


def test_an_abandoned_launch_is_cancelled_and_its_instance_terminated() -> None:
    w = world()
    make_group(w)
    hook(w, "ready", LAUNCHING, HeartbeatTimeout=30)  # DefaultResult ABANDON
    hook(w, "bye", TERMINATING)
    add_instance(w, "web", "i-1", in_service=False)
    token = member(w, "i-1").action_token
    w.clock.advance(30)
    tick(w)
    assert state(w, "i-1") == "Terminating"
    launch = activity(w, "Launching a new EC2 instance: i-1")
    assert launch.status == "Cancelled"
    assert launch.message == (f"Instance failed to complete user's Lifecycle Action: Lifecycle "
                              f"Action with token {token} was abandoned: Lifecycle Action "
                              "Completed with ABANDON Result")  # fmt: skip
    assert activity(w, "Terminating EC2 instance: i-1").status == "InProgress"
    drained(w, "i-1")  # an abandoned launch does not wait on the terminate hooks
    assert state(w, "i-1") == "Terminating:Proceed"


def test_a_termination_waits_for_its_hook_then_the_instance_leaves() -> None:
    w = world()
    make_group(w, MinSize=0, DesiredCapacity=1)
    hook(w, "bye", TERMINATING, HeartbeatTimeout=300)
    add_instance(w, "web", "i-1")
    instances.terminate(w.asg, SCOPE, "i-1", decrement=True)
    assert state(w, "i-1") == "Terminating"
    drained(w, "i-1")
    assert state(w, "i-1") == "Terminating:Wait"
    event = w.events()[-1]
    assert event["detail-type"] == "EC2 Instance-terminate Lifecycle Action"
    assert (event["detail"]["Origin"], event["detail"]["Destination"]) == (
        "AutoScalingGroup", "EC2")  # fmt: skip
    assert activity(w, "Terminating EC2 instance: i-1").status == "MidLifecycleAction"
    instances.complete(w.asg, SCOPE, "web", "bye", "ABANDON", None, "i-1")
    assert state(w, "i-1") == "Terminating:Proceed"  # on terminate, ABANDON goes on too
    gone(w, "i-1")
    assert state(w, "i-1") == "gone"
    assert activity(w, "Terminating EC2 instance: i-1").status == "Successful"
    assert w.events()[-1]["detail-type"] == "EC2 Instance Terminate Successful"


def test_deleting_a_hook_completes_its_actions_as_aws_documents() -> None:
    w = world()
    make_group(w, MinSize=0, DesiredCapacity=2)
    hook(w, "ready", LAUNCHING, DefaultResult="CONTINUE")
    hook(w, "bye", TERMINATING, DefaultResult="ABANDON")
    add_instance(w, "web", "i-1", in_service=False)  # Pending:Wait on "ready"
    instances.delete_hook(w.asg, SCOPE, "web", "ready")
    assert state(w, "i-1") == "Terminating"  # ABANDON for launching instances
    add_instance(w, "web", "i-2")
    instances.terminate(w.asg, SCOPE, "i-2", decrement=False)
    drained(w, "i-2")
    assert state(w, "i-2") == "Terminating:Wait"
    instances.delete_hook(w.asg, SCOPE, "web", "bye")
    assert state(w, "i-2") == "Terminating:Proceed"  # CONTINUE for terminating ones


def test_lifecycle_calls_refuse_what_does_not_wait() -> None:
    w = world()
    make_group(w)
    hook(w, "ready", LAUNCHING)
    add_instance(w, "web", "i-1", in_service=False)
    with pytest.raises(ServiceError) as err:
        instances.complete(w.asg, SCOPE, "web", "ready", "CONTINUE", "no-such-token", None)
    assert err.value.message == "No active Lifecycle Action found with token no-such-token"
    with pytest.raises(ServiceError) as err:
        instances.record_heartbeat(w.asg, SCOPE, "web", "other", None, "i-1")
    assert err.value.code == "ValidationError"
    with pytest.raises(ServiceError) as err:
        instances.complete(w.asg, SCOPE, "web", "ready", "MAYBE", None, "i-1")
    assert err.value.code == "ValidationError"
    bad_fields: list[dict[str, Any]] = [
        {"HeartbeatTimeout": 29}, {"HeartbeatTimeout": 7201}, {"DefaultResult": "RETRY"},
        {"LifecycleTransition": "autoscaling:REBOOT"},
    ]  # fmt: skip
    for bad in bad_fields:
        with pytest.raises(ServiceError):
            hook_fields({"LifecycleTransition": LAUNCHING, **bad}, False)


def test_a_notification_target_is_refused_by_name() -> None:
    w = world()
    make_group(w)
    with pytest.raises(ServiceError) as err:
        instances.put_hook(w.asg, SCOPE, "web", "ready", None, None, None, None,
                           "arn:aws:sqs:us-east-1:123456789012:q", None)  # fmt: skip
    assert err.value.code == "ValidationError" and "NotificationTargetARN" in err.value.message
    assert not w.asg.group(SCOPE, "web").hooks
