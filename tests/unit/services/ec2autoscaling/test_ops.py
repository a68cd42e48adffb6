"""EC2 Auto Scaling's operations as the front door calls them: botocore-shaped input (checked
against the model), output checked against the model's output shape, AWS's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.validate import ParamValidator

from dockyard.core.errors import ServiceError
from dockyard.core.scaling import AlarmFiring
from dockyard.services.ec2autoscaling import PolicyActions, provider
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling
from tests.unit.services.calls import caller
from tests.unit.services.ec2autoscaling.fakes import (
    LT,
    SCOPE,
    TG,
    World,
    add_instance,
    world,
)
from tests.unit.services.ec2autoscaling.test_wire import MODEL, check

GROUP = {"AutoScalingGroupName": "web", "LaunchTemplate": {"LaunchTemplateId": LT},
         "MinSize": 1, "MaxSize": 4, "VPCZoneIdentifier": "subnet-a,subnet-b"}  # fmt: skip


class Api:
    def __init__(self, w: World) -> None:
        self.w = w
        self._call = caller(provider(w.asg))

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        op = MODEL.operation_model(operation)
        if op.input_shape is not None:
            report = ParamValidator().validate(params, op.input_shape)
            assert not report.has_errors(), report.generate_report()
        out = self._call(operation, **params)
        if op.output_shape is not None:
            check(out, op.output_shape, operation)
        else:
            assert out == {}
        return out

    def error(self, operation: str, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as err:
            self(operation, **params)
        return err.value


def test_create_then_describe_shows_the_group_as_aws_does(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP, Tags=[
        {"Key": "team", "Value": "a", "PropagateAtLaunch": True}])  # fmt: skip
    out = api("DescribeAutoScalingGroups", AutoScalingGroupNames=["web"])
    (g,) = out["AutoScalingGroups"]
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) == (1, 4, 1)
    assert g["LaunchTemplate"] == {"LaunchTemplateId": LT, "LaunchTemplateName": "web-template",
                                   "Version": "$Default"}  # fmt: skip
    assert g["AvailabilityZones"] == ["us-east-1a", "us-east-1b"]
    assert g["VPCZoneIdentifier"] == "subnet-a,subnet-b"
    assert g["Tags"] == [{"ResourceId": "web", "ResourceType": "auto-scaling-group",
                          "Key": "team", "Value": "a", "PropagateAtLaunch": True}]  # fmt: skip
    assert "NextToken" not in out
    assert api("DescribeAutoScalingGroups", AutoScalingGroupNames=["nope"]) == {
        "AutoScalingGroups": []}  # fmt: skip


def test_a_second_create_is_already_exists(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    err = api.error("CreateAutoScalingGroup", **GROUP)
    assert (err.code, err.status) == ("AlreadyExists", 400)


@pytest.mark.parametrize(
    ("extra", "name"),
    [({"LoadBalancerNames": ["classic"]}, "LoadBalancerNames"),
     ({"CapacityRebalance": True}, "CapacityRebalance"),
     ({"MaxInstanceLifetime": 86400}, "MaxInstanceLifetime"),
     ({"LifecycleHookSpecificationList": [{"LifecycleHookName": "h", "LifecycleTransition":
        "autoscaling:EC2_INSTANCE_LAUNCHING"}]}, "LifecycleHookSpecificationList"),
     ({"MixedInstancesPolicy": {"LaunchTemplate": {}}}, "MixedInstancesPolicy")],
)  # fmt: skip
def test_what_dockyard_does_not_do_is_refused_by_name(api: Api, extra: dict[str, Any],
                                                      name: str) -> None:  # fmt: skip
    params = {**GROUP, **extra}
    if name == "MixedInstancesPolicy":
        del params["LaunchTemplate"]
    err = api.error("CreateAutoScalingGroup", **params)
    assert err.code == "ValidationError" and name in err.message
    assert api("DescribeAutoScalingGroups")["AutoScalingGroups"] == []


def test_the_neutral_values_of_unsupported_parameters_are_accepted(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP, CapacityRebalance=False, LoadBalancerNames=[])
    assert len(api("DescribeAutoScalingGroups")["AutoScalingGroups"]) == 1


def test_traffic_sources_are_the_groups_target_groups(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP, TrafficSources=[{"Identifier": TG, "Type": "elbv2"}])
    out = api("DescribeTrafficSources", AutoScalingGroupName="web")
    assert out["TrafficSources"] == [{"TrafficSource": TG, "Identifier": TG, "Type": "elbv2",
                                      "State": "Added"}]  # fmt: skip
    tgs = api("DescribeLoadBalancerTargetGroups", AutoScalingGroupName="web")
    assert tgs["LoadBalancerTargetGroups"] == [{"LoadBalancerTargetGroupARN": TG,
                                                "State": "Added"}]  # fmt: skip
    api("DetachTrafficSources", AutoScalingGroupName="web",
        TrafficSources=[{"Identifier": TG, "Type": "elbv2"}])  # fmt: skip
    out = api("DescribeTrafficSources", AutoScalingGroupName="web")
    assert [s["State"] for s in out["TrafficSources"]] == ["Removing"]
    err = api.error(
        "AttachTrafficSources",
        AutoScalingGroupName="web",
        TrafficSources=[{"Identifier": "arn:aws:vpc-lattice:x", "Type": "vpc-lattice"}],
    )
    assert err.code == "ValidationError" and "vpc-lattice" in err.message


def test_describe_groups_pages_and_refuses_a_bad_token(api: Api) -> None:
    for name in ("c", "a", "b"):
        api("CreateAutoScalingGroup", **{**GROUP, "AutoScalingGroupName": name})
    first = api("DescribeAutoScalingGroups", MaxRecords=2)
    assert [g["AutoScalingGroupName"] for g in first["AutoScalingGroups"]] == ["a", "b"]
    rest = api("DescribeAutoScalingGroups", MaxRecords=2, NextToken=first["NextToken"])
    assert [g["AutoScalingGroupName"] for g in rest["AutoScalingGroups"]] == ["c"]
    assert "NextToken" not in rest
    assert api.error("DescribeAutoScalingGroups", NextToken="garbage").code == "InvalidNextToken"
    err = api.error("DescribeAutoScalingGroups", MaxRecords=101)
    assert err.code == "ValidationError" and "maxRecords" in err.message


def test_describe_groups_filters_by_tag(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP, Tags=[{"Key": "env", "Value": "prod"}])
    api("CreateAutoScalingGroup", **{**GROUP, "AutoScalingGroupName": "dev"},
        Tags=[{"Key": "env", "Value": "dev"}])  # fmt: skip
    out = api("DescribeAutoScalingGroups", Filters=[{"Name": "tag:env", "Values": ["prod"]}])
    assert [g["AutoScalingGroupName"] for g in out["AutoScalingGroups"]] == ["web"]
    out = api("DescribeAutoScalingGroups", Filters=[{"Name": "tag-key", "Values": ["env"]}])
    assert len(out["AutoScalingGroups"]) == 2
    assert (
        api.error("DescribeAutoScalingGroups", Filters=[{"Name": "colour", "Values": ["x"]}]).code
        == "ValidationError"
    )


def test_tags_of_several_groups_are_checked_before_any_changes(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    err = api.error(
        "CreateOrUpdateTags",
        Tags=[
            {"ResourceId": "web", "ResourceType": "auto-scaling-group", "Key": "a", "Value": "1"},
            {"ResourceId": "gone", "ResourceType": "auto-scaling-group", "Key": "a", "Value": "1"},
        ],
    )
    assert err.code == "ValidationError" and "gone" in err.message
    assert api("DescribeTags")["Tags"] == []
    api(
        "CreateOrUpdateTags",
        Tags=[
            {
                "ResourceId": "web",
                "ResourceType": "auto-scaling-group",
                "Key": "a",
                "Value": "1",
                "PropagateAtLaunch": True,
            },
            {"ResourceId": "web", "ResourceType": "auto-scaling-group", "Key": "b", "Value": "2"},
        ],
    )
    out = api("DescribeTags", Filters=[{"Name": "propagate-at-launch", "Values": ["true"]}])
    assert [t["Key"] for t in out["Tags"]] == ["a"]
    api("DeleteTags", Tags=[{"ResourceId": "web", "ResourceType": "auto-scaling-group",
                             "Key": "a"}])  # fmt: skip
    assert [t["Key"] for t in api("DescribeTags")["Tags"]] == ["b"]


def test_capacity_and_processes(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    api("SetDesiredCapacity", AutoScalingGroupName="web", DesiredCapacity=3)
    err = api.error("SetDesiredCapacity", AutoScalingGroupName="web", DesiredCapacity=9)
    assert err.message == ("New SetDesiredCapacity value 9 is above max value 4 for the "
                           "AutoScalingGroup.")  # fmt: skip
    api("SuspendProcesses", AutoScalingGroupName="web", ScalingProcesses=["Launch"])
    (g,) = api("DescribeAutoScalingGroups")["AutoScalingGroups"]
    assert g["DesiredCapacity"] == 3
    assert [s["ProcessName"] for s in g["SuspendedProcesses"]] == ["Launch"]
    api("ResumeProcesses", AutoScalingGroupName="web")
    (g,) = api("DescribeAutoScalingGroups")["AutoScalingGroups"]
    assert g["SuspendedProcesses"] == []
    names = [x["ProcessName"] for x in api("DescribeScalingProcessTypes")["Processes"]]
    assert "AZRebalance" in names and "ReplaceUnhealthy" in names


def test_update_then_delete(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    api("UpdateAutoScalingGroup", AutoScalingGroupName="web", MinSize=2,
        LaunchTemplate={"LaunchTemplateName": "web-template", "Version": "$Latest"})  # fmt: skip
    (g,) = api("DescribeAutoScalingGroups")["AutoScalingGroups"]
    assert (g["MinSize"], g["DesiredCapacity"]) == (2, 2)
    assert g["LaunchTemplate"]["Version"] == "$Latest"
    api("DeleteAutoScalingGroup", AutoScalingGroupName="web")
    assert api("DescribeAutoScalingGroups")["AutoScalingGroups"] == []
    err = api.error("DeleteAutoScalingGroup", AutoScalingGroupName="web")
    assert err.message == "AutoScalingGroup name not found - AutoScalingGroup web not found"


def test_instances_terminate_and_detach_answer_their_activities(api: Api) -> None:
    api("CreateAutoScalingGroup", **{**GROUP, "MinSize": 0, "DesiredCapacity": 2})
    add_instance(api.w, "web", "i-1")
    add_instance(api.w, "web", "i-2", zone="us-east-1b")
    out = api("DescribeAutoScalingInstances", InstanceIds=["i-1"])
    assert [i["InstanceId"] for i in out["AutoScalingInstances"]] == ["i-1"]
    assert out["AutoScalingInstances"][0]["LifecycleState"] == "InService"
    act = api("TerminateInstanceInAutoScalingGroup", InstanceId="i-1",
              ShouldDecrementDesiredCapacity=True)["Activity"]  # fmt: skip
    assert act["Description"] == "Terminating EC2 instance: i-1"
    assert act["StatusCode"] == "InProgress"
    assert "shrinking the capacity from 2 to 1" in act["Cause"]
    again = api("TerminateInstanceInAutoScalingGroup", InstanceId="i-1",
                ShouldDecrementDesiredCapacity=False)["Activity"]  # fmt: skip
    assert again["ActivityId"] == act["ActivityId"]
    acts = api("DetachInstances", AutoScalingGroupName="web", InstanceIds=["i-2"],
               ShouldDecrementDesiredCapacity=True)["Activities"]  # fmt: skip
    assert [a["Description"] for a in acts] == ["Detaching EC2 instance: i-2"]
    err = api.error("SetInstanceHealth", InstanceId="i-9", HealthStatus="Unhealthy")
    assert err.message.startswith("Instance Id not found")


def test_activities_list_in_progress_first_then_newest_first_and_page(api: Api) -> None:
    api("CreateAutoScalingGroup", **{**GROUP, "MinSize": 0, "DesiredCapacity": 3})
    for n in (1, 2, 3):
        add_instance(api.w, "web", f"i-{n}")
        api.w.clock.advance(10)
    api("TerminateInstanceInAutoScalingGroup", InstanceId="i-1",
        ShouldDecrementDesiredCapacity=True)  # fmt: skip
    api.w.clock.advance(10)
    add_instance(api.w, "web", "i-4", in_service=False)  # still launching
    out = api("DescribeScalingActivities", AutoScalingGroupName="web")
    described = [(a["Description"], a["StatusCode"]) for a in out["Activities"]]
    assert described == [
        ("Launching a new EC2 instance: i-4", "InProgress"),
        ("Terminating EC2 instance: i-1", "InProgress"),
        ("Launching a new EC2 instance: i-3", "Successful"),
        ("Launching a new EC2 instance: i-2", "Successful"),
        ("Launching a new EC2 instance: i-1", "Successful"),
    ]
    first = api("DescribeScalingActivities", AutoScalingGroupName="web", MaxRecords=2)
    rest = api("DescribeScalingActivities", AutoScalingGroupName="web",
               NextToken=first["NextToken"])  # fmt: skip
    ids = [a["ActivityId"] for a in first["Activities"] + rest["Activities"]]
    assert ids == [a["ActivityId"] for a in out["Activities"]]
    assert api("DescribeScalingActivities", AutoScalingGroupName="nope") == {"Activities": []}


def test_lifecycle_hooks(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    api("PutLifecycleHook", AutoScalingGroupName="web", LifecycleHookName="ready",
        LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING", HeartbeatTimeout=60)  # fmt: skip
    (hook,) = api("DescribeLifecycleHooks", AutoScalingGroupName="web")["LifecycleHooks"]
    assert (hook["HeartbeatTimeout"], hook["GlobalTimeout"], hook["DefaultResult"]) == (
        60, 6000, "ABANDON")  # fmt: skip
    add_instance(api.w, "web", "i-1", in_service=False)
    assert api.w.asg.group(SCOPE, "web").instances["i-1"].state == "Pending:Wait"
    api("RecordLifecycleActionHeartbeat", AutoScalingGroupName="web", LifecycleHookName="ready",
        InstanceId="i-1")  # fmt: skip
    api("CompleteLifecycleAction", AutoScalingGroupName="web", LifecycleHookName="ready",
        LifecycleActionResult="CONTINUE", InstanceId="i-1")  # fmt: skip
    assert api.w.asg.group(SCOPE, "web").instances["i-1"].state == "Pending:Proceed"
    err = api.error("CompleteLifecycleAction", AutoScalingGroupName="web",
                    LifecycleHookName="ready", LifecycleActionResult="CONTINUE",
                    InstanceId="i-1")  # fmt: skip
    assert err.message == "No active Lifecycle Action found with instance ID i-1"
    api("DeleteLifecycleHook", AutoScalingGroupName="web", LifecycleHookName="ready")
    assert api("DescribeLifecycleHooks", AutoScalingGroupName="web")["LifecycleHooks"] == []


def test_policies_execute_and_alarms(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    up = api("PutScalingPolicy", AutoScalingGroupName="web", PolicyName="up",
             AdjustmentType="ChangeInCapacity", ScalingAdjustment=2)  # fmt: skip
    assert ":autoScalingGroupName/web:policyName/up" in up["PolicyARN"]
    cpu = api("PutScalingPolicy", AutoScalingGroupName="web", PolicyName="cpu",
              PolicyType="TargetTrackingScaling", TargetTrackingConfiguration={
                  "PredefinedMetricSpecification": {
                      "PredefinedMetricType": "ASGAverageCPUUtilization"},
                  "TargetValue": 50.0})  # fmt: skip
    assert [a["AlarmName"].split("-")[2] for a in cpu["Alarms"]] == ["AlarmHigh", "AlarmLow"]
    assert sorted(api.w.alarms.alarms) == sorted(a["AlarmName"] for a in cpu["Alarms"])
    listed = api("DescribePolicies", AutoScalingGroupName="web", PolicyTypes=["SimpleScaling"])
    assert [x["PolicyName"] for x in listed["ScalingPolicies"]] == ["up"]
    api("ExecutePolicy", AutoScalingGroupName="web", PolicyName="up")
    assert api.w.asg.group(SCOPE, "web").desired == 3
    err = api.error("ExecutePolicy", AutoScalingGroupName="web", PolicyName="up",
                    HonorCooldown=True)  # fmt: skip
    assert err.code == "ScalingActivityInProgress"
    err = api.error("ExecutePolicy", AutoScalingGroupName="web", PolicyName="cpu")
    assert err.code == "ValidationError"
    api("DeletePolicy", AutoScalingGroupName="web", PolicyName="cpu")
    assert api.w.alarms.alarms == {}


def test_an_alarm_action_on_a_group_policy_scales_the_group(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    arn = api("PutScalingPolicy", AutoScalingGroupName="web", PolicyName="up",
              AdjustmentType="ExactCapacity", ScalingAdjustment=4)["PolicyARN"]  # fmt: skip
    port = PolicyActions(api.w.asg)
    firing = AlarmFiring("high-cpu", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:high-cpu",
                         "ALARM", 70.0, 90.0)  # fmt: skip
    assert port.invoke(SCOPE.account_id, SCOPE.region, arn, firing)
    assert api.w.asg.group(SCOPE, "web").desired == 4
    app = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x:resource/ecs/service/c/s"
    assert not port.invoke(SCOPE.account_id, SCOPE.region, app, firing)


def test_the_provider_serves_autoscaling_and_leaves_the_rest_unsupported() -> None:
    w = world()
    served = provider(w.asg)
    assert served.service == "autoscaling"
    assert served.validation_error_code == "ValidationError"
    for op in ("PutWarmPool", "RollbackInstanceRefresh", "CreateLaunchConfiguration"):
        assert op in MODEL.operation_names and op not in served.handlers
    for op in served.handlers:
        assert op in MODEL.operation_names
    with pytest.raises(ValueError, match="InstanceFleet"):
        provider(Ec2AutoScaling(w.store, w.clock))


def test_target_group_states_follow_registration(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP, TargetGroupARNs=[TG], HealthCheckType="ELB")
    add_instance(api.w, "web", "i-1")

    def state() -> str:
        out = api("DescribeLoadBalancerTargetGroups", AutoScalingGroupName="web")
        return str(out["LoadBalancerTargetGroups"][0]["State"])

    assert state() == "Adding"
    g = api.w.asg.group(SCOPE, "web").copy()
    g.instances["i-1"].registered = True
    api.w.asg.commit([g])
    assert state() == "InService"


def test_activities_filter_by_start_time_and_status(api: Api) -> None:
    api("CreateAutoScalingGroup", **{**GROUP, "MinSize": 0, "DesiredCapacity": 2})
    add_instance(api.w, "web", "i-1")  # at 2023-11-14T22:13:20Z, Successful
    api.w.clock.advance(3600)
    add_instance(api.w, "web", "i-2", in_service=False)  # an hour later, InProgress

    def described(*filters: dict[str, Any], **extra: Any) -> list[str]:
        out = api("DescribeScalingActivities", Filters=list(filters), **extra)
        return [a["Description"].rsplit(" ", 1)[-1] for a in out["Activities"]]

    late = {"Name": "StartTimeLowerBound", "Values": ["2023-11-14T22:30:00Z"]}
    early = {"Name": "StartTimeUpperBound", "Values": ["2023-11-15T06:30:00+08:00"]}
    assert described(late) == ["i-2"]
    assert described(early) == ["i-1"]
    assert described({"Name": "Status", "Values": ["Successful"]},
                     AutoScalingGroupName="web") == ["i-1"]  # fmt: skip
    err = api.error(
        "DescribeScalingActivities", Filters=[{"Name": "Status", "Values": ["Successful"]}]
    )
    assert err.code == "ValidationError" and "AutoScalingGroupName" in err.message
    err = api.error(
        "DescribeScalingActivities",
        Filters=[{"Name": "StartTimeLowerBound", "Values": ["yesterday"]}],
    )
    assert err.code == "ValidationError" and "ISO 8601" in err.message


def test_instance_refresh_operations(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    rid = api("StartInstanceRefresh", AutoScalingGroupName="web",
              Preferences={"MinHealthyPercentage": 50})["InstanceRefreshId"]  # fmt: skip
    (r,) = api("DescribeInstanceRefreshes", AutoScalingGroupName="web")["InstanceRefreshes"]
    assert (r["InstanceRefreshId"], r["Status"], r["Strategy"]) == (rid, "Pending", "Rolling")
    assert r["Preferences"]["MinHealthyPercentage"] == 50
    err = api.error("StartInstanceRefresh", AutoScalingGroupName="web")
    assert err.code == "InstanceRefreshInProgress"
    assert api("CancelInstanceRefresh", AutoScalingGroupName="web") == {"InstanceRefreshId": rid}
    (r,) = api("DescribeInstanceRefreshes", AutoScalingGroupName="web")["InstanceRefreshes"]
    assert r["Status"] == "Cancelling"
