"""EC2 as EC2 Auto Scaling's InstanceFleet: template versions resolved with EC2 Auto Scaling's
errors, launches in a subnet or a zone with the group's type and tags over the template's,
RunInstances' checks answered as FleetErrors, terminate, describe with status checks, and
the zones of subnets."""

from __future__ import annotations

import asyncio

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.fleet import FleetError, LaunchRequest
from dockyard.core.images import plain_image
from dockyard.core.scope import Scope
from dockyard.services.ec2 import Ec2, Ec2Fleet
from dockyard.services.ec2.instances.instances import CHECK_GRACE
from dockyard.store import SqliteStore
from tests.unit.services.ec2.conftest import ACCOUNT, REGION, Call, make_call

SCOPE = Scope(ACCOUNT, REGION)
IMAGE = plain_image(REGION).image_id


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_700_000_000.0)


@pytest.fixture
def served(clock: ManualClock) -> Ec2:
    service = Ec2(SqliteStore(":memory:"), clock, no_runtime=None)
    service.load()
    return service


@pytest.fixture
def call(served: Ec2) -> Call:
    return make_call(served)


def template(call: Call, **data: object) -> str:
    out = call(
        "CreateLaunchTemplate",
        LaunchTemplateName="web",
        LaunchTemplateData={"ImageId": IMAGE, "InstanceType": "t3.micro", **data},
    )
    template_id: str = out["LaunchTemplate"]["LaunchTemplateId"]
    return template_id


def subnets(call: Call) -> dict[str, str]:
    return {s["SubnetId"]: s["AvailabilityZone"] for s in call("DescribeSubnets")["Subnets"]}


def test_template_versions_resolve_with_auto_scaling_errors(served: Ec2, call: Call) -> None:
    fleet = Ec2Fleet(served)
    tid = template(call)
    call("CreateLaunchTemplateVersion", LaunchTemplateId=tid,
         LaunchTemplateData={"ImageId": IMAGE, "InstanceType": "t3.large"})  # fmt: skip
    default = fleet.template(SCOPE, tid, None, "$Default")
    assert (default.version, default.instance_type, default.template_name) == (1, "t3.micro", "web")
    assert fleet.template(SCOPE, None, "web", "$Latest").instance_type == "t3.large"
    assert fleet.template(SCOPE, tid, None, "2").version == 2
    # EC2 Auto Scaling names both once it has resolved a template: the id counts.
    assert fleet.template(SCOPE, tid, "web", "2").version == 2
    (both,) = asyncio.run(fleet.launch(SCOPE, LaunchRequest(tid, "web", "$Latest")))
    assert fleet.describe(SCOPE, [both])[0].instance_type == "t3.large"
    with pytest.raises(FleetError) as err:
        fleet.template(SCOPE, tid, None, "7")
    assert err.value.code == "ValidationError"
    assert "version number 7, does not exist" in err.value.message
    with pytest.raises(FleetError) as err:
        fleet.template(SCOPE, "lt-0123456789abcdef0", None, "$Default")
    assert "template ID lt-0123456789abcdef0, does not exist" in err.value.message
    with pytest.raises(FleetError) as err:
        fleet.template(SCOPE, None, "nope", "$Default")
    assert "template name nope, does not exist" in err.value.message


def test_launch_in_a_subnet_or_a_zone_with_the_groups_choices(served: Ec2, call: Call) -> None:
    fleet = Ec2Fleet(served)
    tid = template(
        call,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "a"}]}],
    )
    by_subnet = subnets(call)
    subnet, zone = sorted(by_subnet.items())[0]
    request = LaunchRequest(template_id=tid, version="$Default", subnet_id=subnet, count=2,
                            instance_type="t3.small",
                            tags={"aws:autoscaling:groupName": "web"})  # fmt: skip
    ids = asyncio.run(fleet.launch(SCOPE, request))
    assert len(ids) == 2
    described = fleet.describe(SCOPE, ids)
    assert {(d.state, d.subnet_id, d.availability_zone, d.instance_type) for d in described} == {
        ("pending", subnet, zone, "t3.small")
    }
    assert {d.launch_template_id for d in described} == {tid}
    assert {d.launch_template_version for d in described} == {"1"}
    assert {d.healthy for d in described} == {None}
    instance = call("DescribeInstances", InstanceIds=ids[:1])["Reservations"][0]["Instances"][0]
    assert {t["Key"]: t["Value"] for t in instance["Tags"]} == {
        "team": "a",
        "aws:autoscaling:groupName": "web",
    }
    other_zone = sorted(set(by_subnet.values()) - {zone})[0]
    (in_zone,) = asyncio.run(
        fleet.launch(SCOPE, LaunchRequest(template_name="web", availability_zone=other_zone))
    )
    (status,) = fleet.describe(SCOPE, [in_zone])
    assert status.availability_zone == other_zone and by_subnet[status.subnet_id] == other_zone
    assert fleet.zones(SCOPE, [subnet, "subnet-00000000"]) == {subnet: zone}


def test_status_checks_pass_once_running_a_while(
    served: Ec2, call: Call, clock: ManualClock
) -> None:
    fleet = Ec2Fleet(served)
    tid = template(call)
    (iid,) = asyncio.run(fleet.launch(SCOPE, LaunchRequest(template_id=tid)))
    served.instances.booted(served.instances.get(SCOPE, iid))
    assert fleet.describe(SCOPE, [iid])[0].healthy is None
    clock.advance(CHECK_GRACE)
    (status,) = fleet.describe(SCOPE, [iid, "i-0000000000000000f"])
    assert (status.state, status.healthy) == ("running", True)
    asyncio.run(fleet.terminate(SCOPE, [iid, "i-0000000000000000f"]))
    assert fleet.describe(SCOPE, [iid])[0].state == "shutting-down"


def test_refused_launches_are_fleet_errors(served: Ec2, call: Call) -> None:
    fleet = Ec2Fleet(served)
    tid = template(call, SecurityGroupIds=["sg-0123456789abcdef0"])
    with pytest.raises(FleetError) as err:
        asyncio.run(fleet.launch(SCOPE, LaunchRequest(template_id=tid)))
    assert err.value.code == "InvalidGroup.NotFound"
    with pytest.raises(FleetError) as err:
        asyncio.run(
            fleet.launch(
                SCOPE, LaunchRequest(template_id=tid, subnet_id="subnet-0123456789abcdef0")
            )
        )
    assert err.value.code == "InvalidSubnetID.NotFound"
    served.no_runtime = "hosts are off (--no-hosts)"
    with pytest.raises(FleetError) as err:
        asyncio.run(fleet.launch(SCOPE, LaunchRequest(template_id=tid)))
    assert err.value.code == "UnsupportedOperation"
    assert "--no-hosts" in err.value.message
