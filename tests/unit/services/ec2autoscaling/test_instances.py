"""A group's instances: scale-in protection, health, termination and detachment, with the
causes AWS words for their activities."""

from __future__ import annotations

import pytest

from dockyard.core.errors import ServiceError
from dockyard.core.fleet import InstanceStatus
from dockyard.services.ec2autoscaling import instances
from tests.unit.services.ec2autoscaling.fakes import SCOPE, add_instance, make_group, world

STAMP = "2023-11-14T22:13:20Z"


def test_new_instances_take_the_groups_scale_in_protection() -> None:
    w = world()
    make_group(w, NewInstancesProtectedFromScaleIn=True)
    assert add_instance(w, "web", "i-1").protected
    instances.set_protection(w.asg, SCOPE, "web", ["i-1"], False)
    assert not w.asg.group(SCOPE, "web").instances["i-1"].protected
    with pytest.raises(ServiceError) as err:
        instances.set_protection(w.asg, SCOPE, "web", ["i-404"], True)
    assert err.value.message == "The instance i-404 is not part of Auto Scaling group web."


def test_terminating_an_instance_tells_the_capacity_it_shrinks() -> None:
    w = world()
    make_group(w, MinSize=0, DesiredCapacity=2)
    add_instance(w, "web", "i-1")
    add_instance(w, "web", "i-2")
    instances.terminate(w.asg, SCOPE, "i-1", decrement=True)
    g = w.asg.group(SCOPE, "web")
    assert g.desired == 1 and g.instances["i-1"].state == "Terminating"
    act = w.asg.activities[g.key][-1]
    assert act.description == "Terminating EC2 instance: i-1"
    assert act.cause == (f"At {STAMP} instance i-1 was taken out of service in response to a "
                         "user request, shrinking the capacity from 2 to 1.")  # fmt: skip
    instances.terminate(w.asg, SCOPE, "i-2", decrement=False)
    g = w.asg.group(SCOPE, "web")
    assert g.desired == 1  # a replacement will be launched
    assert w.asg.activities[g.key][-1].cause == (
        f"At {STAMP} instance i-2 was taken out of service in response to a user request."
    )


def test_terminating_below_the_minimum_with_decrement_is_refused() -> None:
    w = world()
    make_group(w)  # min 1, desired 1
    add_instance(w, "web", "i-1")
    with pytest.raises(ServiceError) as err:
        instances.terminate(w.asg, SCOPE, "i-1", decrement=True)
    assert err.value.message.startswith(
        "Currently, desiredSize equals minSize (1). Terminating instance without replacement"
    )
    with pytest.raises(ServiceError) as err:
        instances.terminate(w.asg, SCOPE, "i-404", decrement=False)
    assert err.value.message == ("Instance Id not found - No managed instance found for "
                                 "instance ID: i-404")  # fmt: skip


def test_set_instance_health_respects_the_grace_period_by_default() -> None:
    w = world()
    make_group(w, HealthCheckGracePeriod=300)
    add_instance(w, "web", "i-1")
    instances.set_health(w.asg, SCOPE, "i-1", "Unhealthy", respect_grace=True)
    assert w.asg.group(SCOPE, "web").instances["i-1"].health == "Healthy"
    instances.set_health(w.asg, SCOPE, "i-1", "Unhealthy", respect_grace=False)
    assert w.asg.group(SCOPE, "web").instances["i-1"].health == "Unhealthy"
    instances.set_health(w.asg, SCOPE, "i-1", "Healthy", respect_grace=False)
    w.clock.advance(300)
    instances.set_health(w.asg, SCOPE, "i-1", "Unhealthy", respect_grace=True)
    assert w.asg.group(SCOPE, "web").instances["i-1"].health == "Unhealthy"
    with pytest.raises(ServiceError):
        instances.set_health(w.asg, SCOPE, "i-1", "Sick", respect_grace=False)


def test_detach_leaves_the_instance_running_and_may_shrink_the_group() -> None:
    w = world()
    make_group(w, MinSize=0, DesiredCapacity=2)
    add_instance(w, "web", "i-1")
    add_instance(w, "web", "i-2")
    [act_id] = instances.detach(w.asg, SCOPE, "web", ["i-1"], decrement=True)
    g = w.asg.group(SCOPE, "web")
    assert g.desired == 1 and g.instances["i-1"].state == "Detaching"
    assert [i.instance_id for i in g.counted()] == ["i-2"]
    act = next(a for a in w.asg.activities[g.key] if a.id == act_id)
    assert act.description == "Detaching EC2 instance: i-1"
    assert act.cause == (f"At {STAMP} instance i-1 was detached in response to a user "
                         "request, shrinking the capacity from 2 to 1.")  # fmt: skip
    with pytest.raises(ServiceError) as err:
        instances.detach(w.asg, SCOPE, "web", ["i-1"], decrement=False)
    assert err.value.message == "The instance i-1 is not in InService or Standby state."


def test_attach_adds_a_running_instance_of_the_groups_zones() -> None:
    w = world()
    make_group(w, MaxSize=2)
    add_instance(w, "web", "i-1")
    w.fleet.instances["i-9"] = InstanceStatus("i-9", "running", "us-east-1b", "subnet-b",
                                              "10.0.0.9", "t3.micro", True)  # fmt: skip
    w.fleet.instances["i-8"] = InstanceStatus("i-8", "stopped", "us-east-1b", "subnet-b",
                                              "10.0.0.8", "t3.micro", True)  # fmt: skip
    with pytest.raises(ServiceError) as err:
        instances.attach(w.asg, SCOPE, "web", ["i-8"])
    assert err.value.code == "ValidationError"
    instances.attach(w.asg, SCOPE, "web", ["i-9"])
    g = w.asg.group(SCOPE, "web")
    assert g.desired == 2 and g.instances["i-9"].state == "Pending"
    act = w.asg.activities[g.key][-1]
    assert act.description == "Attaching an existing EC2 instance: i-9"
    assert act.cause == (f"At {STAMP} an instance was added in response to user request. "
                         "Keeping the capacity at the new 2.")  # fmt: skip
    with pytest.raises(ServiceError) as err:
        instances.attach(w.asg, SCOPE, "web", ["i-9"])  # over the maximum (and a member)
    assert err.value.message == ("Desired capacity:3 must be between the specified min size:1 "
                                 "and max size:2")  # fmt: skip
