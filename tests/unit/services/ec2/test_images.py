"""DescribeImages: the two built-in images of each region, stable ids, EC2's filters."""

from __future__ import annotations

from dockyard.core.hosts import BootKind
from dockyard.core.images import ecs_optimized_image, plain_image
from dockyard.core.scope import Scope
from dockyard.services.ec2 import Ec2
from tests.unit.services.ec2.conftest import ACCOUNT, Call, error_of, make_call


def test_two_images_owned_by_amazon(call: Call) -> None:
    images = call("DescribeImages", Owners=["amazon"])["Images"]
    ecs, plain = ecs_optimized_image("us-east-1"), plain_image("us-east-1")
    assert sorted(i["ImageId"] for i in images) == sorted([ecs.image_id, plain.image_id])
    shown = next(i for i in images if i["ImageId"] == ecs.image_id)
    assert (shown["State"], shown["Public"], shown["ImageOwnerAlias"]) == (
        "available",
        True,
        "amazon",
    )
    assert shown["Name"].startswith("al2023-ami-ecs-hvm-")
    assert shown["BlockDeviceMappings"][0]["DeviceName"] == shown["RootDeviceName"]
    assert call("DescribeImages", Owners=["self"])["Images"] == []
    assert call("DescribeImages", ExecutableUsers=["self"])["Images"] == []
    assert len(call("DescribeImages", ExecutableUsers=["all"])["Images"]) == 2


def test_ids_are_stable_and_per_region(ec2: Ec2) -> None:
    east = make_call(ec2)("DescribeImages")["Images"]
    again = make_call(Ec2(ec2.store))("DescribeImages")["Images"]
    west = make_call(ec2, region="eu-west-1")("DescribeImages")["Images"]
    assert [i["ImageId"] for i in east] == [i["ImageId"] for i in again]
    assert not {i["ImageId"] for i in east} & {i["ImageId"] for i in west}


def test_filters_as_terraform_uses_them(call: Call) -> None:
    found = call(
        "DescribeImages",
        Owners=["amazon"],
        Filters=[
            {"Name": "name", "Values": ["al2023-ami-ecs-hvm-*-kernel-6.1-*"]},
            {"Name": "virtualization-type", "Values": ["hvm"]},
            {"Name": "state", "Values": ["available"]},
        ],
    )["Images"]
    assert [i["ImageId"] for i in found] == [ecs_optimized_image("us-east-1").image_id]
    none = call("DescribeImages", Filters=[{"Name": "platform", "Values": ["windows"]}])
    assert none["Images"] == []
    err = error_of(call, "DescribeImages", Filters=[{"Name": "colour", "Values": ["x"]}])
    assert err.code == "InvalidParameterValue"


def test_unknown_and_malformed_ids(call: Call) -> None:
    err = error_of(call, "DescribeImages", ImageIds=["ami-0000000000000000a"])
    assert err.code == "InvalidAMIID.NotFound"
    err = error_of(call, "DescribeImages", ImageIds=["image-1"])
    assert err.code == "InvalidAMIID.Malformed"
    ecs = ecs_optimized_image("us-east-1").image_id
    (one,) = call("DescribeImages", ImageIds=[ecs])["Images"]
    assert one["ImageId"] == ecs
    err = error_of(call, "DescribeImages", ImageIds=[ecs], MaxResults=5)
    assert err.code == "InvalidParameterCombination"


def test_a_launch_finds_the_boot_kind(ec2: Ec2) -> None:
    scope = Scope(ACCOUNT, "us-east-1")
    assert (
        ec2.images.get(scope, ecs_optimized_image("us-east-1").image_id).boot == BootKind.ECS_AGENT
    )
    assert ec2.images.get(scope, plain_image("us-east-1").image_id).boot == BootKind.USER_DATA


def test_images_are_not_deprecated_and_come_in_pages(call: Call) -> None:
    first = call("DescribeImages", MaxResults=5)
    assert len(first["Images"]) == 2 and "NextToken" not in first
    assert all("DeprecationTime" not in i for i in first["Images"])
