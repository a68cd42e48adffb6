"""What the integration tests of instances on micro-hosts share: a VPC of their own (a random
10.x.0.0/16, so hosts of other servers on this machine, which may use the default VPC's
172.31.0.0/16, do not overlap), a launch that skips the test when the server has no hosts,
and a cleanup that terminates every instance a test left, since hosts outlive servers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.waiting import wait_for

BOOT = 90.0  # seconds a host may take to boot, halt or go


@dataclass(frozen=True)
class Network:
    vpc_id: str
    cidr: str
    subnets: list[dict[str, Any]]  # one in each of two zones


def own_vpc(ec2: Any) -> Network:
    second = random.randint(64, 250)
    cidr = f"10.{second}.0.0/16"
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{second}.{n + 1}.0/24", AvailabilityZone=z)[
            "Subnet"
        ]
        for n, z in enumerate(zones)
    ]
    return Network(vpc, cidr, subnets)


def plain_image(ec2: Any) -> str:
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    image: str = next(i["ImageId"] for i in images if "ecs" not in i["Name"].lower())
    return image


def skip_without_hosts(exc: ClientError) -> None:
    if exc.response["Error"]["Code"] == "UnsupportedOperation":
        pytest.skip(exc.response["Error"]["Message"])


def launch_or_skip(ec2: Any, **params: Any) -> dict[str, Any]:
    """One instance of `RunInstances(**params)`; the test is skipped without hosts."""
    try:
        out = ec2.run_instances(MinCount=1, MaxCount=1, **params)
    except ClientError as exc:
        skip_without_hosts(exc)
        raise
    instance: dict[str, Any] = out["Instances"][0]
    return instance


def launch_web_instance(ec2: Any, net: Network, user_data: str, port: int = 8080) -> dict[str, Any]:
    """An instance of the plain image running `user_data` in the first subnet of `net`, in a
    new group `web` that lets the VPC reach TCP `port`."""
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=net.vpc_id)
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                        "IpRanges": [{"CidrIp": net.cidr}]}],
    )  # fmt: skip
    return launch_or_skip(
        ec2, ImageId=plain_image(ec2), UserData=user_data,
        SubnetId=net.subnets[0]["SubnetId"], SecurityGroupIds=[group["GroupId"]],
    )  # fmt: skip


def state_of(ec2: Any, instance_id: str) -> str:
    found = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"]
    name: str = found[0]["State"]["Name"]
    return name


@dataclass
class Cleanup:
    """Clients whose instances (and EC2 Auto Scaling groups) go when the test ends."""

    ec2: list[Any] = field(default_factory=list)
    autoscaling: list[Any] = field(default_factory=list)

    def finish(self) -> None:
        for asg in self.autoscaling:
            for group in asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
                asg.delete_auto_scaling_group(
                    AutoScalingGroupName=group["AutoScalingGroupName"], ForceDelete=True
                )
        for ec2 in self.ec2:
            wait_for(lambda ec2=ec2: self._gone(ec2), BOOT, "every instance to terminate", 0.5)

    @staticmethod
    def _gone(ec2: Any) -> bool:
        reservations = ec2.describe_instances()["Reservations"]
        left = [i for r in reservations for i in r["Instances"]]
        alive = [i["InstanceId"] for i in left if i["State"]["Name"] != "terminated"]
        if alive:
            ec2.terminate_instances(InstanceIds=alive)
        return not alive


@pytest.fixture
def cleanup() -> Iterator[Cleanup]:
    done = Cleanup()
    yield done
    done.finish()
