"""Auto Scaling groups: create, update, delete and desired capacity, with AWS's errors."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.ec2autoscaling import groups
from dockyard.services.ec2autoscaling.service import MAX_ACTIVITIES, Ec2AutoScaling
from dockyard.services.ec2autoscaling.validation import group_spec
from dockyard.store.base import StoreUnavailable
from tests.unit.services.ec2autoscaling.fakes import (
    SCOPE,
    TG,
    World,
    add_instance,
    make_group,
    world,
)

STAMP = "2023-11-14T22:13:20Z"  # the manual clock's start


def refused(w: World, **extra: Any) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        make_group(w, **extra)
    return err.value


def test_a_new_group_takes_the_defaults_aws_documents() -> None:
    w = world()
    g = make_group(w)
    assert (g.min_size, g.max_size, g.desired) == (1, 4, 1)  # desired defaults to MinSize
    assert g.zones == ["us-east-1a", "us-east-1b"]
    assert g.subnets == ["subnet-a", "subnet-b"]
    assert g.template_version == "$Default"
    assert g.health_check_type == "EC2" and g.grace_period == 0
    assert g.default_cooldown == 300
    assert g.termination_policies == ["Default"]
    assert g.arn.startswith("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:")
    assert g.arn.endswith(":autoScalingGroupName/web")
    assert g.capacity_cause == (f"At {STAMP} a user request created an AutoScalingGroup "
                                "changing the desired capacity from 0 to 1.")  # fmt: skip


def test_a_group_survives_a_restart() -> None:
    w = world()
    make_group(w, Tags=[{"Key": "team", "Value": "a", "PropagateAtLaunch": True}])
    add_instance(w, "web", "i-1")
    again = Ec2AutoScaling(w.store, w.clock)
    again.load()
    g = again.group(SCOPE, "web")
    assert g.tags[0].key == "team" and g.tags[0].propagate
    assert g.instances["i-1"].state == "InService"
    assert [a.description for a in again.activities[g.key]] == [
        "Launching a new EC2 instance: i-1"]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        ({"LaunchTemplate": None}, "ValidationError",
         "Valid requests must contain either LaunchTemplate, LaunchConfigurationName, "
         "InstanceId or MixedInstancesPolicy parameter."),
        ({"LaunchTemplate": {"LaunchTemplateId": "lt-1", "LaunchTemplateName": "x"}},
         "ValidationError", "Valid requests must contain either launchTemplateId or "
         "LaunchTemplateName"),
        ({"MaxSize": None}, "ValidationError",
         "1 validation error detected: Value null at 'maxSize' failed to satisfy constraint: "
         "Member must not be null"),
        ({"VPCZoneIdentifier": None}, "ValidationError",
         "At least one Availability Zone or VPC Subnet is required."),
        ({"VPCZoneIdentifier": "subnet-a,subnet-zz"}, "ValidationError",
         "The subnet ID 'subnet-zz' does not exist"),
        ({"MinSize": 3, "MaxSize": 2}, "ValidationError",
         "Max bound, 2, must be greater than or equal to min bound, 3"),
        ({"DesiredCapacity": 5}, "ValidationError",
         "Desired capacity:5 must be between the specified min size:1 and max size:4"),
        ({"HealthCheckType": "TCP"}, "ValidationError",
         "Value TCP at 'healthCheckType' failed to satisfy constraint: Member must be one of "
         "[EC2, ELB]"),
        ({"TargetGroupARNs": [TG.replace("web", "gone")]}, "ValidationError",
         "Provided Target Groups may not be valid."),
        ({"TerminationPolicies": ["Youngest"]}, "ValidationError",
         "Termination policy 'Youngest' is not valid."),
    ],
)  # fmt: skip
def test_create_refuses_bad_input_as_aws_does(extra: dict[str, Any], code: str,
                                             message: str) -> None:  # fmt: skip
    w = world()
    err = refused(w, **extra)
    assert err.code == code and err.status == 400
    assert err.message.startswith(message)
    assert not w.asg.groups


def test_mixed_instances_policy_is_refused_by_name() -> None:
    err = refused(world(), MixedInstancesPolicy={"LaunchTemplate": {}})
    assert err.code == "ValidationError" and "MixedInstancesPolicy" in err.message


def test_a_second_group_of_the_same_name_already_exists() -> None:
    w = world()
    make_group(w)
    err = refused(w)
    assert err.code == "AlreadyExists"
    assert err.message == ("AutoScalingGroup by this name already exists - A group with the "
                           "name web already exists")  # fmt: skip


def test_a_failed_commit_changes_nothing() -> None:
    w = world()
    w.store.failing = True
    with pytest.raises(StoreUnavailable):
        make_group(w)
    assert not w.asg.groups
    w.store.failing = False
    make_group(w)
    w.store.failing = True
    with pytest.raises(StoreUnavailable):
        groups.set_desired(w.asg, SCOPE, "web", 3)
    assert w.asg.group(SCOPE, "web").desired == 1


def test_update_carries_the_desired_capacity_into_new_bounds() -> None:
    w = world()
    make_group(w, DesiredCapacity=2)
    g = groups.update(w.asg, SCOPE, "web", group_spec({"MinSize": 3}, creating=False))
    assert (g.min_size, g.desired) == (3, 3)
    assert g.capacity_cause == (f"At {STAMP} a user request update of AutoScalingGroup "
                                "constraints to min: 3, max: 4, desired: 3 changing the desired "
                                "capacity from 2 to 3.")  # fmt: skip
    g = groups.update(w.asg, SCOPE, "web", group_spec({"MinSize": 0, "MaxSize": 1},
                                                      creating=False))  # fmt: skip
    assert (g.min_size, g.max_size, g.desired) == (0, 1, 1)


def test_update_refuses_a_desired_capacity_out_of_bounds() -> None:
    w = world()
    make_group(w)
    with pytest.raises(ServiceError) as err:
        groups.update(w.asg, SCOPE, "web", group_spec({"DesiredCapacity": 9}, creating=False))
    assert err.value.message == ("Desired capacity:9 must be between the specified min size:1 "
                                 "and max size:4")  # fmt: skip
    with pytest.raises(ServiceError) as err:
        groups.update(w.asg, SCOPE, "nope", group_spec({}, creating=False))
    assert err.value.code == "ValidationError"
    assert err.value.message == ("AutoScalingGroup name not found - AutoScalingGroup nope not "
                                 "found")  # fmt: skip


@pytest.mark.parametrize(
    ("desired", "message"),
    [
        (5, "New SetDesiredCapacity value 5 is above max value 4 for the AutoScalingGroup."),
        (0, "New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup."),
    ],
)
def test_set_desired_capacity_stays_within_the_bounds(desired: int, message: str) -> None:
    w = world()
    make_group(w)
    with pytest.raises(ServiceError) as err:
        groups.set_desired(w.asg, SCOPE, "web", desired)
    assert (err.value.code, err.value.message) == ("ValidationError", message)


def test_set_desired_capacity_tells_its_cause_and_may_honor_the_cooldown() -> None:
    w = world()
    make_group(w)
    groups.set_desired(w.asg, SCOPE, "web", 3, honor_cooldown=True)
    g = w.asg.group(SCOPE, "web")
    assert g.desired == 3
    assert g.capacity_cause == (
        f"At {STAMP} a user request explicitly set group desired "
        "capacity changing the desired capacity from 1 to 3."
    )
    with pytest.raises(ServiceError) as err:
        groups.set_desired(w.asg, SCOPE, "web", 4, honor_cooldown=True)
    assert err.value.code == "ScalingActivityInProgress"
    groups.set_desired(w.asg, SCOPE, "web", 4)  # without HonorCooldown: at once
    w.clock.advance(300)
    groups.set_desired(w.asg, SCOPE, "web", 2, honor_cooldown=True)
    assert w.asg.group(SCOPE, "web").desired == 2


def test_delete_refuses_a_group_with_instances_unless_forced() -> None:
    w = world()
    make_group(w, MinSize=0, DesiredCapacity=0)
    groups.delete(w.asg, SCOPE, "web", force=False)  # empty: gone at once
    assert not w.asg.groups
    make_group(w)
    add_instance(w, "web", "i-1")
    with pytest.raises(ServiceError) as err:
        groups.delete(w.asg, SCOPE, "web", force=False)
    assert err.value.code == "ResourceInUse"
    assert err.value.message == ("You cannot delete an AutoScalingGroup while there are "
                                 "instances or pending Spot instance request(s) still in the "
                                 "group.")  # fmt: skip
    groups.delete(w.asg, SCOPE, "web", force=True)
    g = w.asg.group(SCOPE, "web")  # listed until its instances are gone
    assert g.deleting and g.desired == 0
    assert g.instances["i-1"].state == "Terminating"
    acts = w.asg.activities[g.key]
    assert acts[-1].description == "Terminating EC2 instance: i-1"
    assert acts[-1].cause.startswith(
        f"At {STAMP} a user request deleted the AutoScalingGroup "
        "changing the desired capacity from 1 to 0."
    )
    with pytest.raises(ServiceError) as err:
        groups.set_desired(w.asg, SCOPE, "web", 1)
    assert err.value.code == "ScalingActivityInProgress"


def test_delete_waits_for_activities_in_progress() -> None:
    w = world()
    make_group(w)
    add_instance(w, "web", "i-1", in_service=False)  # its launch is in progress
    g = w.asg.group(SCOPE, "web").copy()
    g.instances.clear()  # as if EC2 lost it; the launch activity is still open
    w.asg.commit([g])
    with pytest.raises(ServiceError) as err:
        groups.delete(w.asg, SCOPE, "web", force=False)
    assert err.value.code == "ScalingActivityInProgress"


def test_processes_suspend_and_resume() -> None:
    w = world()
    make_group(w)
    groups.suspend(w.asg, SCOPE, "web", groups.validation.processes(["Launch", "AZRebalance"]))
    g = w.asg.group(SCOPE, "web")
    assert g.suspended == {"Launch": f"User suspended at {STAMP}",
                           "AZRebalance": f"User suspended at {STAMP}"}  # fmt: skip
    groups.resume(w.asg, SCOPE, "web", groups.validation.processes(None))
    assert not w.asg.group(SCOPE, "web").suspended
    with pytest.raises(ServiceError):
        groups.validation.processes(["Reboot"])


def test_target_groups_attach_by_arn_of_instance_type_only() -> None:
    w = world()
    make_group(w)
    groups.attach_target_groups(w.asg, SCOPE, "web", [TG])
    assert w.asg.group(SCOPE, "web").target_groups == [TG]
    with pytest.raises(ServiceError) as err:
        groups.attach_target_groups(w.asg, SCOPE, "web", ["not-an-arn"])
    assert err.value.code == "ValidationError"
    groups.detach_target_groups(w.asg, SCOPE, "web", [TG])
    g = w.asg.group(SCOPE, "web")
    assert g.target_groups == [] and g.released_target_groups == [TG]


def test_a_group_keeps_its_newest_activities() -> None:
    w = world()
    g = make_group(w)
    first = []
    for n in range(MAX_ACTIVITIES - 1):
        first.append(w.asg.activity(g, f"old {n}", "cause"))
        w.clock.advance(1)
    w.asg.commit(activities=first)
    new = [w.asg.activity(g, f"new {n}", "cause") for n in range(3)]
    w.asg.commit(activities=new)
    kept = [a.description for a in w.asg.activities[g.key]]
    assert len(kept) == MAX_ACTIVITIES
    assert kept[:2] == ["old 2", "old 3"]
    assert kept[-3:] == ["new 0", "new 1", "new 2"]
    again = Ec2AutoScaling(w.store, w.clock)
    again.load()
    assert [a.description for a in again.activities[g.key]] == kept
