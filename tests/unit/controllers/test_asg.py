"""The EC2 Auto Scaling controller against stand-ins for EC2 and the target groups: launches
across zones, lifecycle, registration, health replacement, scale-in, back-off, deletion."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from dockyard.controllers.asg import GROUP_TAG, AsgController, backoff
from dockyard.core.fleet import FleetError
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import groups, instances
from dockyard.services.ec2autoscaling.model import Group, Process, Tag, Transition
from dockyard.services.ec2autoscaling.validation import GroupSpec
from dockyard.store.base import StoreUnavailable
from tests.unit.services.ec2autoscaling.fakes import LT, SCOPE, TG, World, make_group, world


def port(scope: Scope, arn: str) -> int | None:
    return 8080 if arn == TG else None


def controller(w: World) -> AsgController:
    return AsgController(w.asg, w.clock, w.fleet, target_groups=w.target_groups,
                         target_port=port)  # fmt: skip


def group(w: World, name: str = "web") -> Group:
    return w.asg.group(SCOPE, name)


def reconcile(ctl: AsgController, w: World, name: str = "web", times: int = 1) -> float | None:
    key = w.asg.groups[SCOPE.key("group", name)].key
    again = None
    for _ in range(times):
        again = asyncio.run(ctl.reconcile(key))
    return again


def states(w: World, name: str = "web") -> dict[str, str]:
    return {i.instance_id: i.state.value for i in group(w, name).instances.values()}


def run_all(w: World) -> None:
    for iid, status in list(w.fleet.instances.items()):
        if status.state == "pending":
            w.fleet.run(iid)


def in_service(w: World, ctl: AsgController, name: str = "web") -> None:
    reconcile(ctl, w, name)
    run_all(w)
    reconcile(ctl, w, name, times=3)


def detail_types(w: World) -> list[str]:
    return [e["detail-type"] for e in w.events()]


def test_a_new_group_launches_its_desired_capacity_balanced_across_zones() -> None:
    w = world()
    make_group(w, DesiredCapacity=3, Tags=[
        {"Key": "team", "Value": "a", "PropagateAtLaunch": True},
        {"Key": "cost", "Value": "b", "PropagateAtLaunch": False}])  # fmt: skip
    reconcile(controller(w), w)
    launched = [(r.subnet_id, r.count) for r in w.fleet.launched]
    assert launched == [("subnet-a", 2), ("subnet-b", 1)]
    request = w.fleet.launched[0]
    assert (request.template_id, request.version) == (LT, "1")  # $Default, resolved
    assert dict(request.tags) == {"team": "a", GROUP_TAG: "web"}
    g = group(w)
    assert sorted(i.zone for i in g.instances.values()) == ["us-east-1a", "us-east-1a",
                                                           "us-east-1b"]  # fmt: skip
    assert set(states(w).values()) == {"Pending"}
    acts = w.asg.activities[g.key]
    assert [a.status.value for a in acts] == ["InProgress"] * 3
    assert acts[0].cause.endswith("an instance was started in response to a difference between "
                                  "desired and actual capacity, increasing the capacity from 0 "
                                  "to 3.")  # fmt: skip
    assert "a user request created an AutoScalingGroup" in acts[0].cause


def test_running_instances_go_in_service_and_into_the_target_groups() -> None:
    w = world()
    make_group(w, DesiredCapacity=2, TargetGroupARNs=[TG])
    ctl = controller(w)
    again = reconcile(ctl, w)
    assert again == ctl.poll  # instances on their way in: EC2 is watched closely
    run_all(w)
    reconcile(ctl, w, times=3)
    assert set(states(w).values()) == {"InService"}
    ids = sorted(states(w))
    assert sorted(c[2] for c in w.target_groups.calls) == ids
    assert {(c[0], c[1], c[3]) for c in w.target_groups.calls} == {("register", TG, 8080)}
    assert all(i.registered for i in group(w).instances.values())
    assert detail_types(w).count("EC2 Instance Launch Successful") == 2
    assert [a.status.value for a in w.asg.activities[group(w).key]] == ["Successful"] * 2
    assert reconcile(ctl, w) == ctl.resync  # steady


def test_a_launch_hook_waits_then_its_default_result_abandons_the_launch() -> None:
    w = world()
    make_group(w)
    instances.put_hook(w.asg, SCOPE, "web", "ready", Transition.LAUNCHING, 60, None, None,
                       None, None)  # fmt: skip
    ctl = controller(w)
    reconcile(ctl, w)
    run_all(w)
    again = reconcile(ctl, w)
    (iid,) = states(w)
    assert states(w)[iid] == "Pending:Wait"
    assert again is not None and again <= 60
    assert "EC2 Instance-launch Lifecycle Action" in detail_types(w)
    w.clock.advance(61)
    reconcile(ctl, w, times=3)  # abandoned: out of service, terminated
    assert iid in w.fleet.terminated
    reconcile(ctl, w)
    assert iid not in group(w).instances  # and a replacement is launched
    assert len(group(w).instances) == 1


def test_a_launch_hook_completed_with_continue_goes_in_service() -> None:
    w = world()
    make_group(w)
    instances.put_hook(w.asg, SCOPE, "web", "ready", Transition.LAUNCHING, 60, None, None,
                       None, None)  # fmt: skip
    ctl = controller(w)
    reconcile(ctl, w)
    run_all(w)
    reconcile(ctl, w)
    (iid,) = states(w)
    instances.complete(w.asg, SCOPE, "web", "ready", "CONTINUE", None, iid)
    reconcile(ctl, w)
    assert states(w) == {iid: "InService"}


def test_scale_in_deregisters_waits_for_draining_then_terminates() -> None:
    w = world()
    make_group(w, DesiredCapacity=2, TargetGroupARNs=[TG])
    ctl = controller(w)
    in_service(w, ctl)
    groups.set_desired(w.asg, SCOPE, "web", 1)
    reconcile(ctl, w, times=2)
    leaving = [i for i, s in states(w).items() if s == "Terminating"]
    assert len(leaving) == 1
    (victim,) = leaving
    assert ("deregister", TG, victim, 8080) in w.target_groups.calls
    assert victim not in w.fleet.terminated  # still draining
    w.target_groups.drain()
    reconcile(ctl, w, times=3)
    assert victim in w.fleet.terminated
    assert victim not in group(w).instances and len(group(w).instances) == 1
    terminate = [a for a in w.asg.activities[group(w).key] if a.description.startswith("Termin")]
    assert [a.status.value for a in terminate] == ["Successful"]
    assert "shrinking the capacity from 2 to 1" in terminate[0].cause
    assert "EC2 Instance Terminate Successful" in detail_types(w)


def test_failing_status_checks_replace_the_instance_after_the_grace_period() -> None:
    w = world()
    make_group(w, HealthCheckGracePeriod=120)
    ctl = controller(w)
    in_service(w, ctl)
    (iid,) = states(w)
    w.fleet.run(iid, healthy=False)
    again = reconcile(ctl, w)
    assert states(w) == {iid: "InService"}  # within the grace period
    assert again is not None and again <= 120
    w.clock.advance(121)
    reconcile(ctl, w)
    assert group(w).instances[iid].health.value == "Unhealthy"
    assert states(w)[iid] in ("Terminating", "Terminating:Proceed")
    assert len(states(w)) == 2  # its replacement is launching
    cause = next(i.cause for i in group(w).instances.values() if i.instance_id == iid)
    assert cause.endswith("an instance was taken out of service in response to an EC2 "
                          "instance status checks failure.")  # fmt: skip


def test_elb_health_checks_replace_an_unhealthy_target() -> None:
    w = world()
    make_group(w, HealthCheckType="ELB", TargetGroupARNs=[TG])
    ctl = controller(w)
    in_service(w, ctl)
    (iid,) = states(w)
    w.target_groups.targets[(TG, iid)] = "unhealthy"
    reconcile(ctl, w)
    assert "ELB system health check failure" in group(w).instances[iid].cause


def test_a_refused_launch_is_a_failed_activity_and_launches_back_off() -> None:
    w = world()
    make_group(w)
    w.fleet.fail_launch = FleetError(
        "InsufficientInstanceCapacity", "We currently do not have sufficient t3.micro capacity"
    )
    ctl = controller(w)
    reconcile(ctl, w)
    (act,) = w.asg.activities[group(w).key]
    assert act.status.value == "Failed"
    assert act.description == ("Launching a new EC2 instance.  Status Reason: We currently do "
                               "not have sufficient t3.micro capacity. Launching EC2 instance "
                               "failed.")  # fmt: skip
    assert "EC2 Instance Launch Unsuccessful" in detail_types(w)
    assert group(w).launch_failures == 1
    again = reconcile(ctl, w)
    assert len(w.fleet.launched) == 1  # backing off
    assert again == pytest.approx(backoff(1))
    w.clock.advance(backoff(1))
    reconcile(ctl, w)
    assert len(w.fleet.launched) == 2 and group(w).launch_failures == 2
    assert reconcile(ctl, w) == pytest.approx(backoff(2))
    w.fleet.fail_launch = None
    w.clock.advance(backoff(2))
    in_service(w, ctl)
    assert set(states(w).values()) == {"InService"} and group(w).launch_failures == 0
    assert [backoff(n) for n in (1, 2, 3, 10)] == [10.0, 20.0, 40.0, 300.0]


def test_instances_a_group_cannot_record_are_terminated() -> None:
    w = world()
    make_group(w)
    ctl = controller(w)
    real_launch = w.fleet.launch

    async def launch_then_fail_the_store(scope: Scope, request: Any) -> list[str]:
        ids = await real_launch(scope, request)
        w.store.failing = True
        return ids

    w.fleet.launch = launch_then_fail_the_store  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        reconcile(ctl, w)
    assert group(w).instances == {}
    assert w.fleet.terminated == list(w.fleet.instances)


def test_suspended_launch_launches_nothing() -> None:
    w = world()
    make_group(w)
    groups.suspend(w.asg, SCOPE, "web", [Process.LAUNCH])
    reconcile(controller(w), w)
    assert w.fleet.launched == []


def test_force_delete_terminates_everything_then_the_group_is_gone() -> None:
    w = world()
    make_group(w, DesiredCapacity=2, TargetGroupARNs=[TG])
    ctl = controller(w)
    in_service(w, ctl)
    ids = sorted(states(w))
    groups.delete(w.asg, SCOPE, "web", force=True)
    reconcile(ctl, w)
    w.target_groups.drain()
    reconcile(ctl, w, times=4)
    assert sorted(w.fleet.terminated) == ids
    assert SCOPE.key("group", "web") not in w.asg.groups
    assert w.asg.groups_of(SCOPE) == []


def test_the_controller_follows_commits_on_its_runtime() -> None:
    async def main() -> None:
        w = world()
        ctl = controller(w)
        ctl.start()
        make_group(w, DesiredCapacity=2)
        for _ in range(50):
            await asyncio.sleep(0)
            if len(group(w).instances) == 2:
                break
        await ctl.stop()
        assert len(group(w).instances) == 2
        assert ctl._hook not in w.asg.changed_hooks

    asyncio.run(main())


def test_a_detached_instance_leaves_the_target_groups_and_keeps_running() -> None:
    w = world()
    make_group(w, MinSize=0, DesiredCapacity=1, TargetGroupARNs=[TG])
    ctl = controller(w)
    in_service(w, ctl)
    (iid,) = states(w)
    instances.detach(w.asg, SCOPE, "web", [iid], decrement=True)
    reconcile(ctl, w)
    assert ("deregister", TG, iid, 8080) in w.target_groups.calls
    assert states(w) == {iid: "Detaching"}
    w.target_groups.drain()
    reconcile(ctl, w)
    assert states(w) == {} and w.fleet.terminated == []
    assert w.fleet.instances[iid].state == "running"
    assert "EC2 Instance Terminate Successful" not in detail_types(w)


def test_a_terminate_hook_holds_the_instance_until_continued() -> None:
    w = world()
    make_group(w, MinSize=0, DesiredCapacity=1)
    ctl = controller(w)
    in_service(w, ctl)
    (iid,) = states(w)
    instances.put_hook(w.asg, SCOPE, "web", "drain", Transition.TERMINATING, 300, None, None,
                       None, None)  # fmt: skip
    groups.set_desired(w.asg, SCOPE, "web", 0)
    reconcile(ctl, w, times=2)
    assert states(w) == {iid: "Terminating:Wait"}
    assert "EC2 Instance-terminate Lifecycle Action" in detail_types(w)
    assert w.fleet.terminated == []
    instances.complete(w.asg, SCOPE, "web", "drain", "CONTINUE", None, iid)
    reconcile(ctl, w, times=2)
    assert w.fleet.terminated == [iid] and states(w) == {}


def test_an_unbalanced_group_launches_in_its_smallest_zone_then_scales_in_the_largest() -> None:
    w = world()
    make_group(w, VPCZoneIdentifier="subnet-a", DesiredCapacity=2)
    ctl = controller(w)
    in_service(w, ctl)
    assert {i.zone for i in group(w).instances.values()} == {"us-east-1a"}
    groups.update(w.asg, SCOPE, "web", GroupSpec(subnets=["subnet-a", "subnet-b"]))
    reconcile(ctl, w)
    launched = [i for i in group(w).instances.values() if i.state.value == "Pending"]
    assert [i.zone for i in launched] == ["us-east-1b"]
    act = next(a for a in w.asg.activities[group(w).key] if a.id == launched[0].activity_id)
    assert act.cause.endswith("an instance was launched in an attempt to balance the group "
                              "across Availability Zones.")  # fmt: skip
    run_all(w)
    reconcile(ctl, w, times=4)
    zones = sorted(i.zone for i in group(w).instances.values() if i.state.value == "InService")
    assert zones == ["us-east-1a", "us-east-1b"]


def test_an_instance_ec2_terminates_before_it_runs_is_replaced() -> None:
    w = world()
    make_group(w)
    ctl = controller(w)
    reconcile(ctl, w)
    (iid,) = states(w)
    w.fleet.instances[iid] = dataclasses.replace(w.fleet.instances[iid], state="terminated")
    reconcile(ctl, w, times=3)
    assert iid not in group(w).instances
    assert len(group(w).instances) == 1 and len(w.fleet.launched) == 2
    launch = next(a for a in w.asg.activities[group(w).key] if a.description.endswith(iid))
    assert launch.status.value == "Cancelled"


def test_changes_made_while_ec2_launches_are_kept() -> None:
    w = world()
    make_group(w, DesiredCapacity=1)
    ctl = controller(w)
    real_launch = w.fleet.launch

    async def launch_while_the_user_tags(scope: Scope, request: Any) -> list[str]:
        groups.put_tags(w.asg, SCOPE, "web", [Tag("late", "yes")])
        return await real_launch(scope, request)

    w.fleet.launch = launch_while_the_user_tags  # type: ignore[method-assign]
    reconcile(ctl, w)
    assert [t.key for t in group(w).tags] == ["late"]
    assert len(group(w).instances) == 1


def test_instances_launched_for_a_group_deleted_meanwhile_are_terminated() -> None:
    w = world()
    make_group(w, MinSize=0, DesiredCapacity=1)
    ctl = controller(w)
    real_launch = w.fleet.launch

    async def launch_while_the_user_deletes(scope: Scope, request: Any) -> list[str]:
        groups.delete(w.asg, SCOPE, "web", force=False)
        return await real_launch(scope, request)

    w.fleet.launch = launch_while_the_user_deletes  # type: ignore[method-assign]
    reconcile(ctl, w)
    assert w.asg.groups_of(SCOPE) == []
    assert w.fleet.terminated == list(w.fleet.instances)


def test_a_group_of_zones_without_subnets_launches_in_each_zone() -> None:
    w = world()
    make_group(w, VPCZoneIdentifier=None, AvailabilityZones=["us-east-1a", "us-east-1c"],
               DesiredCapacity=2)  # fmt: skip
    reconcile(controller(w), w)
    assert [(r.subnet_id, r.availability_zone) for r in w.fleet.launched] == [
        (None, "us-east-1a"), (None, "us-east-1c")]  # fmt: skip
    assert sorted(i.zone for i in group(w).instances.values()) == ["us-east-1a", "us-east-1c"]
