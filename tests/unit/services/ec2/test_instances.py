"""Instance records: RunInstances checks in EC2's order, the default subnet and group, an
address of the subnet per instance (back on terminate), the state machine with EC2's
reasons, Describe*, metadata options, user data, and terminated instances forgotten after an
hour. The machine is not driven here (the controller does it); `booted`/`halted`/`destroyed`/
`died` stand for what it reports."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from dockyard.api.errors import UnsupportedOperation
from dockyard.core.clock import ManualClock
from dockyard.core.images import ecs_optimized_image
from dockyard.core.scope import Scope
from dockyard.services.ec2 import Ec2
from dockyard.store import SqliteStore
from dockyard.store.base import StoreUnavailable
from tests.unit.services.ec2.conftest import ACCOUNT, REGION, Call, error_of, make_call
from tests.unit.services.ec2.test_vpcs import RefusingStore

SCOPE = Scope(ACCOUNT, REGION)
IMAGE = ecs_optimized_image(REGION).image_id
USER_DATA = base64.b64encode(b"#!/bin/sh\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n").decode()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def served(store: SqliteStore, clock: ManualClock) -> Ec2:
    service = Ec2(store, clock, no_runtime=None)
    service.load()
    return service


@pytest.fixture
def run(served: Ec2) -> Call:
    return make_call(served)


def launch(call: Call, **params: Any) -> list[dict[str, Any]]:
    out = call("RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1, **params)
    instances: list[dict[str, Any]] = out["Instances"]
    return instances


def one(call: Call, instance_id: str) -> dict[str, Any]:
    out = call("DescribeInstances", InstanceIds=[instance_id])
    found: dict[str, Any] = out["Reservations"][0]["Instances"][0]
    return found


def free(call: Call, subnet_id: str) -> int:
    subnets = call("DescribeSubnets", SubnetIds=[subnet_id])["Subnets"]
    return int(subnets[0]["AvailableIpAddressCount"])


def test_without_a_host_runtime_run_instances_is_unsupported_and_describe_is_empty(
    call: Call,
) -> None:
    err = error_of(call, "RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1)
    assert isinstance(err, UnsupportedOperation)
    assert err.status == 501
    assert "this server has no host runtime" in str(err)
    assert call("DescribeInstances")["Reservations"] == []
    assert call("DescribeInstanceStatus")["InstanceStatuses"] == []


def test_a_launch_takes_an_address_of_the_default_subnet_and_the_default_group(
    run: Call,
) -> None:
    subnets = run("DescribeSubnets", Filters=[{"Name": "default-for-az", "Values": ["true"]}])
    first = sorted(subnets["Subnets"], key=lambda s: s["AvailabilityZone"])[0]
    before = free(run, first["SubnetId"])
    (made,) = launch(run, UserData=USER_DATA, KeyName="k")
    assert made["State"] == {"Code": 0, "Name": "pending"}
    assert made["SubnetId"] == first["SubnetId"]
    assert made["Placement"]["AvailabilityZone"] == "us-east-1a"
    assert made["InstanceType"] == "m1.small"
    address = made["PrivateIpAddress"]
    assert address.startswith("172.31.")
    assert made["PrivateDnsName"] == "ip-" + address.replace(".", "-") + ".ec2.internal"
    eni = made["NetworkInterfaces"][0]
    assert eni["MacAddress"].startswith("02:") and len(eni["MacAddress"]) == 17
    (group,) = made["SecurityGroups"]
    groups = run("DescribeSecurityGroups", GroupIds=[group["GroupId"]])["SecurityGroups"]
    assert groups[0]["GroupName"] == "default"
    assert free(run, first["SubnetId"]) == before - 1
    attribute = run(
        "DescribeInstanceAttribute", InstanceId=made["InstanceId"], Attribute="userData"
    )
    assert attribute["UserData"] == {"Value": USER_DATA}


def test_run_instances_checks_in_ec2_order(run: Call) -> None:
    assert error_of(run, "RunInstances", ImageId=IMAGE, MaxCount=1).code == "MissingParameter"
    bad = error_of(run, "RunInstances", ImageId=IMAGE, MinCount=3, MaxCount=2)
    assert bad.code == "InvalidParameterValue"
    assert "maxCount" in str(bad)
    gone = error_of(run, "RunInstances", ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1)
    assert gone.code == "InvalidAMIID.NotFound"
    no_subnet = error_of(
        run, "RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1, SubnetId="subnet-0a1b2c3d"
    )
    assert no_subnet.code == "InvalidSubnetID.NotFound"
    meta = error_of(
        run,
        "RunInstances",
        ImageId=IMAGE,
        MinCount=1,
        MaxCount=1,
        MetadataOptions={"HttpTokens": "sometimes"},
    )
    assert meta.code == "InvalidParameterValue" and "HttpTokens" in str(meta)
    user = error_of(run, "RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1, UserData="%%")
    assert user.code == "InvalidUserData.Malformed"
    template = error_of(
        run,
        "RunInstances",
        MinCount=1,
        MaxCount=1,
        LaunchTemplate={"LaunchTemplateId": "lt-0123456789abcdef0"},
    )
    assert template.code == "InvalidLaunchTemplateId.NotFound"


def test_a_small_subnet_gives_what_it_has_between_min_and_max(run: Call) -> None:
    vpc = run("CreateVpc", CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = run("CreateSubnet", VpcId=vpc, CidrBlock="10.9.0.0/28")["Subnet"]["SubnetId"]
    assert free(run, subnet) == 11
    err = error_of(run, "RunInstances", ImageId=IMAGE, MinCount=12, MaxCount=12, SubnetId=subnet)
    assert err.code == "InsufficientFreeAddressesInSubnet"
    out = run("RunInstances", ImageId=IMAGE, MinCount=2, MaxCount=20, SubnetId=subnet)
    assert len(out["Instances"]) == 11
    assert len({i["PrivateIpAddress"] for i in out["Instances"]}) == 11
    assert [i["AmiLaunchIndex"] for i in out["Instances"]] == list(range(11))
    assert free(run, subnet) == 0


def test_from_a_launch_template_with_overrides_and_tags(run: Call) -> None:
    vpc = run("CreateVpc", CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = run("CreateSubnet", VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    group = run("CreateSecurityGroup", GroupName="web", Description="w", VpcId=vpc)["GroupId"]
    template = run(
        "CreateLaunchTemplate",
        LaunchTemplateName="web",
        LaunchTemplateData={
            "ImageId": IMAGE,
            "InstanceType": "t3.micro",
            "SubnetId": subnet,
            "SecurityGroupIds": [group],
            "UserData": USER_DATA,
        },
    )["LaunchTemplate"]
    out = run(
        "RunInstances",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.small",
        LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "a"}]}],
    )
    (made,) = out["Instances"]
    assert made["InstanceType"] == "t3.small"
    assert made["SubnetId"] == subnet and made["VpcId"] == vpc
    assert made["SecurityGroups"] == [{"GroupId": group}]
    assert made["Tags"] == [{"Key": "Name", "Value": "a"}]
    assert made["PrivateIpAddress"].startswith("10.8.1.")
    named = run("DescribeInstances", Filters=[{"Name": "tag:Name", "Values": ["a"]}])
    assert named["Reservations"][0]["Instances"][0]["InstanceId"] == made["InstanceId"]
    assert template["LaunchTemplateId"].startswith("lt-")


def test_states_and_reasons_follow_the_calls_and_the_machine(
    run: Call, served: Ec2, clock: ManualClock
) -> None:
    (made,) = launch(run)
    instance_id = made["InstanceId"]
    subnet = made["SubnetId"]
    before = free(run, subnet)
    record = served.instances.get(SCOPE, instance_id)
    served.instances.booted(record)
    running = one(run, instance_id)
    assert running["State"]["Name"] == "running"
    assert "StateReason" not in running
    status = run("DescribeInstanceStatus", InstanceIds=[instance_id])["InstanceStatuses"][0]
    assert status["InstanceStatus"]["Status"] == "initializing"
    clock.advance(10)
    status = run("DescribeInstanceStatus", InstanceIds=[instance_id])["InstanceStatuses"][0]
    assert status["InstanceStatus"]["Status"] == "ok"
    assert status["SystemStatus"]["Status"] == "ok"

    stopping = run("StopInstances", InstanceIds=[instance_id])["StoppingInstances"][0]
    assert stopping["PreviousState"]["Name"] == "running"
    assert stopping["CurrentState"] == {"Code": 64, "Name": "stopping"}
    shown = one(run, instance_id)
    assert shown["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    assert shown["StateTransitionReason"].startswith("User initiated (")
    assert shown["StateTransitionReason"].endswith(" GMT)")
    served.instances.halted(served.instances.get(SCOPE, instance_id))
    assert one(run, instance_id)["State"]["Name"] == "stopped"
    assert run("DescribeInstanceStatus")["InstanceStatuses"] == []

    started = run("StartInstances", InstanceIds=[instance_id])["StartingInstances"][0]
    assert started["CurrentState"]["Name"] == "pending"
    served.instances.booted(served.instances.get(SCOPE, instance_id))
    served.instances.died(served.instances.get(SCOPE, instance_id))
    died = one(run, instance_id)
    assert died["State"]["Name"] == "stopped"
    assert died["StateReason"]["Code"] == "Client.InstanceInitiatedShutdown"

    ended = run("TerminateInstances", InstanceIds=[instance_id])["TerminatingInstances"][0]
    assert ended["CurrentState"] == {"Code": 32, "Name": "shutting-down"}
    err = error_of(run, "StartInstances", InstanceIds=[instance_id])
    assert err.code == "IncorrectInstanceState"
    served.instances.destroyed(served.instances.get(SCOPE, instance_id))
    assert one(run, instance_id)["State"] == {"Code": 48, "Name": "terminated"}
    assert free(run, subnet) == before + 1
    again = run("TerminateInstances", InstanceIds=[instance_id])["TerminatingInstances"][0]
    assert again["PreviousState"]["Name"] == again["CurrentState"]["Name"] == "terminated"

    clock.advance(3601)
    assert run("DescribeInstances")["Reservations"] == []
    gone = error_of(run, "DescribeInstances", InstanceIds=[instance_id])
    assert gone.code == "InvalidInstanceID.NotFound"


def test_unknown_and_malformed_ids(run: Call) -> None:
    assert error_of(run, "StopInstances", InstanceIds=["i-0123456789abcdef0"]).code == (
        "InvalidInstanceID.NotFound"
    )
    assert error_of(run, "StopInstances", InstanceIds=["web"]).code == (
        "InvalidInstanceID.Malformed"
    )
    assert error_of(run, "TerminateInstances").code == "MissingParameter"


def test_metadata_options_are_changed_and_checked(run: Call) -> None:
    (made,) = launch(run, MetadataOptions={"HttpTokens": "required"})
    assert made["MetadataOptions"]["HttpTokens"] == "required"
    assert made["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    out = run(
        "ModifyInstanceMetadataOptions",
        InstanceId=made["InstanceId"],
        HttpPutResponseHopLimit=2,
    )
    assert out["InstanceMetadataOptions"]["HttpPutResponseHopLimit"] == 2
    assert out["InstanceMetadataOptions"]["HttpTokens"] == "required"
    err = error_of(
        run, "ModifyInstanceMetadataOptions", InstanceId=made["InstanceId"], HttpEndpoint="maybe"
    )
    assert err.code == "InvalidParameterValue"


def test_instances_survive_a_restart_and_tags_apply(store: SqliteStore, run: Call) -> None:
    (made,) = launch(run)
    run("CreateTags", Resources=[made["InstanceId"]], Tags=[{"Key": "team", "Value": "x"}])
    again = Ec2(store, no_runtime=None)
    again.load()
    shown = one(make_call(again), made["InstanceId"])
    assert shown["Tags"] == [{"Key": "team", "Value": "x"}]
    assert shown["PrivateIpAddress"] == made["PrivateIpAddress"]


def test_a_refused_commit_launches_nothing() -> None:
    store = RefusingStore(":memory:")
    service = Ec2(store, no_runtime=None)
    call = make_call(service)
    call("DescribeVpcs")
    before = call("DescribeSubnets")
    store.refuse = True
    with pytest.raises(StoreUnavailable):
        call("RunInstances", ImageId=IMAGE, MinCount=1, MaxCount=1)
    store.refuse = False
    assert call("DescribeInstances")["Reservations"] == []
    assert call("DescribeSubnets") == before


def test_watchers_hear_of_each_change_a_call_makes(run: Call, served: Ec2) -> None:
    heard: list[tuple[str, str]] = []
    unwatch = served.instances.watch(lambda i: heard.append((i.id, i.state.value)))
    out = run("RunInstances", ImageId=IMAGE, MinCount=2, MaxCount=2)
    a, b = (i["InstanceId"] for i in out["Instances"])
    assert heard == [(a, "pending"), (b, "pending")]
    heard.clear()
    served.instances.booted(served.instances.get(SCOPE, a))  # the machine's report: not a call
    assert heard == []
    run("RebootInstances", InstanceIds=[a, b])  # only the running one is rebooted
    run("StopInstances", InstanceIds=[a])
    run("TerminateInstances", InstanceIds=[b])
    assert heard == [(a, "running"), (a, "stopping"), (b, "shutting-down")]
    refused = error_of(run, "StartInstances", InstanceIds=[b])  # nothing changed, nothing heard
    assert refused.code == "IncorrectInstanceState"
    unwatch()
    run("TerminateInstances", InstanceIds=[a])
    assert len(heard) == 3
