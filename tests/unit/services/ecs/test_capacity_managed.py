"""Capacity providers on EC2 Auto Scaling groups, through the ECS handlers: managed scaling,
termination protection and draining settings checked as ECS checks them, and what ECS puts
on the group (its target tracking policy per cluster, its draining hook)."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.ecs.capacity.managed import DRAINING_HOOK, POLICY_PREFIX
from tests.unit.services.ecs.capacity_harness import SCALING, Setup, setup
from tests.unit.services.ecs.tasks_harness import Client, make_ecs


def refused(call: Any, code: str, words: str) -> None:
    with pytest.raises(ServiceError) as err:
        call()
    assert err.value.code == code
    assert words in err.value.message


def managed_policies(s: Setup) -> list[Any]:
    group = s.group()
    return [p for p in s.w.asg.policies_of(group) if p.name.startswith(POLICY_PREFIX)]


def test_managed_scaling_defaults_are_filled_in() -> None:
    s = setup()
    created = s.provider(managedScaling={"status": "ENABLED", "targetCapacity": 80})
    asg = created["autoScalingGroupProvider"]
    assert asg["managedScaling"] == {
        "status": "ENABLED", "targetCapacity": 80, "minimumScalingStepSize": 1,
        "maximumScalingStepSize": 10000, "instanceWarmupPeriod": 300,
    }  # fmt: skip
    assert asg["managedTerminationProtection"] == "DISABLED"
    assert asg["managedDraining"] == "ENABLED"
    listed = s.client("DescribeCapacityProviders", capacityProviders=["cp"])
    assert listed["capacityProviders"][0]["autoScalingGroupProvider"] == asg


def test_the_group_must_exist_and_serve_one_provider() -> None:
    s = setup()
    arn = s.group().arn
    refused(lambda: s.client("CreateCapacityProvider", name="cp", autoScalingGroupProvider={
        "autoScalingGroupArn": arn.replace("/web", "/nope")}),
        "ClientException", "Auto Scaling group")  # fmt: skip
    s.provider("cp")
    refused(lambda: s.provider("other"), "ClientException", "already in use by capacity "
            "provider cp")  # fmt: skip
    # A name already taken is told first.
    refused(lambda: s.provider("cp"), "ClientException", "already exists")


@pytest.mark.parametrize(
    "scaling, words",
    [
        ({"status": "ENABLED", "targetCapacity": 0}, "managedScaling.targetCapacity"),
        ({"status": "ENABLED", "targetCapacity": 101}, "managedScaling.targetCapacity"),
        ({"status": "ENABLED", "minimumScalingStepSize": 0}, "minimumScalingStepSize"),
        ({"status": "ENABLED", "maximumScalingStepSize": 10001}, "maximumScalingStepSize"),
        ({"status": "ENABLED", "instanceWarmupPeriod": -1}, "instanceWarmupPeriod"),
        ({"status": "ENABLED", "minimumScalingStepSize": 5, "maximumScalingStepSize": 2},
         "minimum scaling step size"),
        ({"status": "ON"}, "managedScaling.status"),
    ],
)  # fmt: skip
def test_bad_managed_scaling_is_refused(scaling: dict[str, Any], words: str) -> None:
    s = setup()
    refused(lambda: s.provider(managedScaling=scaling), "InvalidParameterException", words)


def test_termination_protection_needs_managed_scaling_and_protected_instances() -> None:
    s = setup()
    refused(lambda: s.provider(managedTerminationProtection="ENABLED"), "ClientException",
            "managed scaling must also be enabled")  # fmt: skip
    refused(lambda: s.provider(managedScaling=SCALING, managedTerminationProtection="ENABLED"),
            "ClientException", "The managed termination protection setting for the capacity "
            "provider is invalid. To enable managed termination protection for a capacity "
            "provider, the Auto Scaling group must have instance protection from scale in "
            "enabled.")  # fmt: skip
    protected = setup(NewInstancesProtectedFromScaleIn=True)
    created = protected.provider(managedScaling=SCALING, managedTerminationProtection="ENABLED")
    assert created["autoScalingGroupProvider"]["managedTerminationProtection"] == "ENABLED"
    # Turning managed scaling off while protection is on is refused the same way.
    refused(lambda: protected.client("UpdateCapacityProvider", name="cp",
                                     autoScalingGroupProvider={"managedScaling": {
                                         "status": "DISABLED"}}),
            "ClientException", "managed scaling must also be enabled")  # fmt: skip


def test_the_policy_follows_the_associations() -> None:
    s = setup()
    s.provider(managedScaling={**SCALING, "targetCapacity": 90, "instanceWarmupPeriod": 60})
    assert managed_policies(s) == []  # created on association, not before
    s.client("CreateCluster", clusterName="prod")
    s.client("PutClusterCapacityProviders", cluster="prod", capacityProviders=["cp"],
             defaultCapacityProviderStrategy=[])  # fmt: skip
    (policy,) = managed_policies(s)
    assert policy.policy_type == "TargetTrackingScaling"
    assert policy.estimated_warmup == 60
    assert policy.target_tracking == {
        "CustomizedMetricSpecification": {
            "MetricName": "CapacityProviderReservation",
            "Namespace": "AWS/ECS/ManagedScaling",
            "Dimensions": [{"Name": "CapacityProviderName", "Value": "cp"},
                           {"Name": "ClusterName", "Value": "prod"}],
            "Statistic": "Average",
        },
        "TargetValue": 90.0,
        "DisableScaleIn": False,
    }  # fmt: skip
    # Its alarms are those of any target tracking policy of the group.
    assert sorted(a.split("-Alarm")[1][:4] for a in s.w.alarms.alarms) == ["High", "Low-"]
    # A second cluster gets a policy of its own.
    s.client("CreateCluster", clusterName="dev")
    s.client("PutClusterCapacityProviders", cluster="dev", capacityProviders=["cp"],
             defaultCapacityProviderStrategy=[])  # fmt: skip
    assert len(managed_policies(s)) == 2
    # A new target replaces the policies.
    before = {p.name for p in managed_policies(s)}
    s.client(
        "UpdateCapacityProvider",
        name="cp",
        autoScalingGroupProvider={"managedScaling": {**SCALING, "targetCapacity": 70}},
    )
    after = managed_policies(s)
    assert {p.target_tracking["TargetValue"] for p in after if p.target_tracking} == {70.0}
    assert not before & {p.name for p in after}
    # Removed from a cluster: its policy goes.
    s.client("PutClusterCapacityProviders", cluster="dev", capacityProviders=[],
             defaultCapacityProviderStrategy=[])  # fmt: skip
    (left,) = managed_policies(s)
    assert left.target_tracking is not None
    dims = left.target_tracking["CustomizedMetricSpecification"]["Dimensions"]
    assert dims[1] == {"Name": "ClusterName", "Value": "prod"}
    # Managed scaling off: no policy.
    s.client(
        "UpdateCapacityProvider",
        name="cp",
        autoScalingGroupProvider={"managedScaling": {"status": "DISABLED"}},
    )
    assert managed_policies(s) == []
    assert s.w.alarms.alarms == {}


def test_the_draining_hook_comes_and_goes_with_the_provider() -> None:
    s = setup()
    s.provider(managedScaling=SCALING)
    hook = s.group().hooks[DRAINING_HOOK]
    assert hook.transition == "autoscaling:EC2_INSTANCE_TERMINATING"
    s.client(
        "UpdateCapacityProvider",
        name="cp",
        autoScalingGroupProvider={"managedDraining": "DISABLED"},
    )
    assert DRAINING_HOOK not in s.group().hooks
    s.client(
        "UpdateCapacityProvider", name="cp", autoScalingGroupProvider={"managedDraining": "ENABLED"}
    )
    assert DRAINING_HOOK in s.group().hooks
    s.client("DeleteCapacityProvider", capacityProvider="cp")
    assert DRAINING_HOOK not in s.group().hooks
    # The group is free for another provider once this one is gone.
    s.provider("again")


def test_deleting_an_associated_provider_is_refused_and_leaves_the_policy() -> None:
    s = setup()
    s.provider(managedScaling=SCALING)
    s.client("CreateCluster", clusterName="prod")
    s.client("PutClusterCapacityProviders", cluster="prod", capacityProviders=["cp"],
             defaultCapacityProviderStrategy=[])  # fmt: skip
    refused(lambda: s.client("DeleteCapacityProvider", capacityProvider="cp"),
            "ResourceInUseException", "in use")  # fmt: skip
    assert len(managed_policies(s)) == 1


def test_without_ec2_auto_scaling_managed_scaling_is_refused() -> None:
    client = Client(make_ecs())
    refused(lambda: client("CreateCapacityProvider", name="cp", autoScalingGroupProvider={
        "autoScalingGroupArn": "arn:x", "managedScaling": SCALING}),
        "InvalidParameterException", "managedScaling.status")  # fmt: skip
    # Without it, a provider's group stays a label (hosts join with --capacity-provider).
    created = client(
        "CreateCapacityProvider",
        name="cp",
        autoScalingGroupProvider={"autoScalingGroupArn": "arn:x"},
    )
    assert created["capacityProvider"]["autoScalingGroupProvider"]["managedScaling"][
        "status"] == "DISABLED"  # fmt: skip
