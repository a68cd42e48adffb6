"""The Auto Scaling group reconcile plan (pure): lifecycle progress, target groups, health,
capacity in balance across zones, scale-in choice and suspended processes."""

from __future__ import annotations

from dockyard.controllers.asg_plan import plan
from dockyard.core.fleet import InstanceStatus
from dockyard.services.ec2autoscaling.model import Group, GroupInstance, Health, LifecycleState

NOW = 1_700_000_000.0
STAMP = "2023-11-14T22:13:20Z"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
ZONES = {"subnet-a": "us-east-1a", "subnet-b": "us-east-1b", "subnet-c": "us-east-1c"}


def group(desired: int = 2, **kw: object) -> Group:
    g = Group("web", "arn:g", "123456789012", "us-east-1", NOW - 9000, 0, 6, desired,
              template_id="lt-1", template_version="1", zones=list(ZONES.values()),
              subnets=list(ZONES), subnet_zones=dict(ZONES))  # fmt: skip
    for key, value in kw.items():
        setattr(g, key, value)
    return g


def member(g: Group, iid: str, zone: str = "us-east-1a",
           state: LifecycleState = LifecycleState.IN_SERVICE, *, age: float = 1000.0,
           **kw: object) -> GroupInstance:  # fmt: skip
    subnet = next(s for s, z in ZONES.items() if z == zone)
    inst = GroupInstance(iid, zone, subnet, "t3.micro", "lt-1", None, "1", state, NOW - age,
                         in_service_at=NOW - age)  # fmt: skip
    for key, value in kw.items():
        setattr(inst, key, value)
    g.instances[iid] = inst
    return inst


def ec2(g: Group, **states: str) -> dict[str, InstanceStatus]:
    """EC2's view: every instance running, but for `i_1="stopped"` and the like (`impaired`:
    running with failing status checks; `missing`: unknown to EC2)."""
    out = {}
    for iid, inst in g.instances.items():
        state = states.get(iid.replace("-", "_"), "running")
        if state == "missing":
            continue
        healthy = state != "impaired"
        out[iid] = InstanceStatus(iid, "running" if state == "impaired" else state, inst.zone,
                                  inst.subnet_id, "10.0.0.1", "t3.micro", healthy, "lt-1", "1",
                                  inst.launched)  # fmt: skip
    return out


def test_an_empty_group_launches_its_desired_capacity_across_zones() -> None:
    g = group(desired=4, capacity_cause="At X a user request created an AutoScalingGroup "
              "changing the desired capacity from 0 to 4.")  # fmt: skip
    p = plan(g, {}, {}, NOW)
    assert [(x.zone, x.subnet_id) for x in p.launch] == [
        ("us-east-1a", "subnet-a"), ("us-east-1b", "subnet-b"), ("us-east-1c", "subnet-c"),
        ("us-east-1a", "subnet-a")]  # fmt: skip
    assert p.launch[0].cause == (
        "At X a user request created an AutoScalingGroup changing the desired capacity from 0 "
        f"to 4.  At {STAMP} an instance was started in response to a difference between "
        "desired and actual capacity, increasing the capacity from 0 to 4.")  # fmt: skip


def test_launches_fill_the_smallest_zones_first() -> None:
    g = group(desired=3)
    member(g, "i-1", "us-east-1a")
    member(g, "i-2", "us-east-1b", LifecycleState.PENDING)
    assert [x.zone for x in plan(g, ec2(g), {}, NOW).launch] == ["us-east-1c"]


def test_pending_instances_progress_as_ec2_reports_them() -> None:
    g = group(desired=2)
    member(g, "i-1", state=LifecycleState.PENDING)
    member(g, "i-2", "us-east-1b", LifecycleState.PENDING_PROCEED)
    p = plan(g, ec2(g, i_1="pending"), {}, NOW)
    assert p.running == [] and p.in_service == ["i-2"]
    p = plan(g, ec2(g), {}, NOW)
    assert p.running == ["i-1"]


def test_in_service_instances_are_registered_unless_suspended() -> None:
    g = group(desired=1, target_groups=[TG])
    member(g, "i-1")
    assert plan(g, ec2(g), {}, NOW).register == [("i-1", TG)]
    assert plan(g, ec2(g), {("i-1", TG): "healthy"}, NOW).register == []
    g.suspended = {"AddToLoadBalancer": "User suspended"}
    assert plan(g, ec2(g), {}, NOW).register == []


def test_scale_in_takes_from_the_largest_zone_and_spares_protected_instances() -> None:
    g = group(desired=1, capacity_cause="At X a user request explicitly set group desired "
              "capacity changing the desired capacity from 3 to 1.")  # fmt: skip
    member(g, "i-1", "us-east-1a", age=100)
    member(g, "i-2", "us-east-1a", age=3590, protected=True)
    member(g, "i-3", "us-east-1b", age=3590)
    p = plan(g, ec2(g), {}, NOW)
    assert [r.instance_id for r in p.scale_in] == ["i-1", "i-3"]
    assert p.scale_in[0].cause == (
        "At X a user request explicitly set group desired capacity changing the desired "
        f"capacity from 3 to 1.  At {STAMP} an instance was taken out of service in response "
        "to a difference between desired and actual capacity, shrinking the capacity from 3 "
        f"to 1.  At {STAMP} instance i-1 was selected for termination.")  # fmt: skip
    g.suspended = {"Terminate": "User suspended"}
    assert plan(g, ec2(g), {}, NOW).scale_in == []


def test_a_stopped_instance_is_replaced_at_once_and_impaired_after_the_grace_period() -> None:
    g = group(desired=2, grace_period=300)
    member(g, "i-1", age=100)
    member(g, "i-2", "us-east-1b", age=100)
    p = plan(g, ec2(g, i_1="stopped", i_2="impaired"), {}, NOW)
    assert [r.instance_id for r in p.replace] == ["i-1"]
    assert p.replace[0].cause == (f"At {STAMP} an instance was taken out of service in response "
                                  "to an EC2 health check indicating it has been terminated or "
                                  "stopped.")  # fmt: skip
    assert [x.zone for x in p.launch] == ["us-east-1a"]  # its replacement
    assert p.again_after == 200  # when i-2's grace period ends
    p = plan(g, ec2(g, i_1="stopped", i_2="impaired"), {}, NOW + 200)
    assert [r.instance_id for r in p.replace] == ["i-1", "i-2"]
    assert p.replace[1].cause.endswith("in response to an EC2 instance status checks failure.")


def test_elb_health_counts_only_for_type_elb() -> None:
    g = group(desired=1, target_groups=[TG])
    member(g, "i-1")
    unhealthy = {("i-1", TG): "unhealthy"}
    assert plan(g, ec2(g), unhealthy, NOW).replace == []
    g.health_check_type = "ELB"
    p = plan(g, ec2(g), unhealthy, NOW)
    assert p.replace[0].cause.endswith("in response to an ELB system health check failure.")


def test_suspended_health_processes_leave_instances_alone() -> None:
    g = group(desired=1)
    member(g, "i-1")
    g.suspended = {"HealthCheck": "User suspended"}
    assert plan(g, ec2(g, i_1="stopped"), {}, NOW).unhealthy == []
    g.suspended = {"ReplaceUnhealthy": "User suspended"}
    p = plan(g, ec2(g, i_1="stopped"), {}, NOW)
    assert [r.instance_id for r in p.unhealthy] == ["i-1"] and p.replace == []
    g.instances["i-1"].health = Health.UNHEALTHY
    g.suspended = {}
    p = plan(g, ec2(g), {}, NOW)
    assert p.replace[0].cause.endswith("in response to a user health-check.")


def test_leaving_instances_are_deregistered_then_terminated_then_gone() -> None:
    g = group(desired=0, target_groups=[TG])
    member(g, "i-1", state=LifecycleState.TERMINATING)
    p = plan(g, ec2(g), {("i-1", TG): "healthy"}, NOW)
    assert p.deregister == [("i-1", TG)] and p.drained == []
    p = plan(g, ec2(g), {("i-1", TG): "draining"}, NOW)
    assert p.deregister == [] and p.drained == []
    assert plan(g, ec2(g), {}, NOW).drained == ["i-1"]
    g.instances["i-1"].state = LifecycleState.TERMINATING_PROCEED
    assert plan(g, ec2(g), {}, NOW).terminate == ["i-1"]
    assert plan(g, ec2(g, i_1="terminated"), {}, NOW).gone == ["i-1"]
    g.instances["i-1"].state = LifecycleState.DETACHING
    assert plan(g, ec2(g), {}, NOW).gone == ["i-1"]


def test_lifecycle_actions_time_out_and_wake_the_reconcile() -> None:
    g = group(desired=1)
    member(g, "i-1", state=LifecycleState.PENDING_WAIT, action_token="t",
           action_deadline=NOW + 60, action_global_deadline=NOW + 6000)  # fmt: skip
    p = plan(g, ec2(g), {}, NOW)
    assert not p.expire_actions and p.again_after == 60
    assert plan(g, ec2(g), {}, NOW + 60).expire_actions


def test_an_unbalanced_group_launches_in_its_smallest_zone_first() -> None:
    g = group(desired=3)
    for iid in ("i-1", "i-2", "i-3"):
        member(g, iid, "us-east-1a")
    p = plan(g, ec2(g), {}, NOW)
    assert [x.zone for x in p.launch] == ["us-east-1b"]
    assert p.launch[0].cause == (f"At {STAMP} an instance was launched in an attempt to balance "
                                 "the group across Availability Zones.")  # fmt: skip
    g.suspended = {"AZRebalance": "User suspended"}
    assert plan(g, ec2(g), {}, NOW).launch == []
    # Once the new one is in service, scale-in takes one from the largest zone.
    g.suspended = {}
    member(g, "i-4", "us-east-1b")
    assert [r.instance_id for r in plan(g, ec2(g), {}, NOW).scale_in] == ["i-1"]


def test_a_deleted_group_goes_once_its_instances_are_gone() -> None:
    g = group(desired=0, deleting=True)
    assert plan(g, {}, {}, NOW).delete_group
    member(g, "i-1", state=LifecycleState.TERMINATING_PROCEED)
    p = plan(g, ec2(g), {}, NOW)
    assert not p.delete_group and p.terminate == ["i-1"]


def test_released_target_groups_are_left_once_drained() -> None:
    g = group(desired=1, released_target_groups=[TG])
    member(g, "i-1")
    p = plan(g, ec2(g), {("i-1", TG): "healthy"}, NOW)
    assert p.deregister == [("i-1", TG)] and p.released == []
    assert plan(g, ec2(g), {}, NOW).released == [TG]


def test_an_instance_lost_on_its_way_in_is_replaced_at_once() -> None:
    g = group(desired=2, suspended={"HealthCheck": "x", "ReplaceUnhealthy": "y"})
    member(g, "i-1", state=LifecycleState.PENDING)
    member(g, "i-2", "us-east-1b", state=LifecycleState.PENDING_WAIT)
    p = plan(g, ec2(g, i_1="terminated", i_2="missing"), {}, NOW)
    assert [r.instance_id for r in p.replace] == ["i-1", "i-2"]
    assert p.replace[0].cause == (f"At {STAMP} an instance was taken out of service in response "
                                  "to an EC2 health check indicating it has been terminated or "
                                  "stopped.")  # fmt: skip
    assert [x.zone for x in p.launch] == ["us-east-1a", "us-east-1b"]
    pending = plan(g, ec2(g, i_1="pending"), {}, NOW)
    assert pending.replace == [] and pending.launch == []
