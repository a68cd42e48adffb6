"""EC2 launch templates and images through a real server: boto3 and the AWS CLI create
templates and versions, pick versions by alias, change the default, delete; EC2's error
shape; templates survive a kill -9, and their user data is not in clear in the data dir; the
SSM public parameter of the recommended ECS-optimized image names the image DescribeImages
answers."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client, run_aws
from tests.support.server import DockyardProcess

SECRET = "hunter2-" + uuid.uuid4().hex
USER_DATA = base64.b64encode(f"#!/bin/sh\nexport TOKEN={SECRET}\n".encode()).decode()


def account() -> str:
    return str(uuid.uuid4().int)[:12].rjust(12, "1")


def ec2_of(server: DockyardProcess, key: str | None = None) -> Any:
    return make_client("ec2", server.endpoint, access_key=key or account())


def error(call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response: dict[str, Any] = err.value.response
    return response


def test_templates_and_versions_with_boto3(dockyard: DockyardProcess) -> None:
    ec2 = ec2_of(dockyard)
    made = ec2.create_launch_template(
        LaunchTemplateName="web",
        VersionDescription="first",
        LaunchTemplateData={
            "ImageId": "ami-0123456789abcdef0",
            "InstanceType": "t3.micro",
            "UserData": USER_DATA,
            "SecurityGroupIds": ["sg-0123456789abcdef0"],
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}
            ],
        },
        TagSpecifications=[
            {"ResourceType": "launch-template", "Tags": [{"Key": "team", "Value": "a"}]}
        ],
    )
    lt = made["LaunchTemplate"]
    assert lt["LaunchTemplateId"].startswith("lt-")
    assert (lt["DefaultVersionNumber"], lt["LatestVersionNumber"]) == (1, 1)
    assert lt["Tags"] == [{"Key": "team", "Value": "a"}]
    lt_id = lt["LaunchTemplateId"]
    v2 = ec2.create_launch_template_version(
        LaunchTemplateName="web",
        SourceVersion="1",
        VersionDescription="bigger",
        LaunchTemplateData={"InstanceType": "m5.large"},
    )["LaunchTemplateVersion"]
    assert (v2["VersionNumber"], v2["DefaultVersion"]) == (2, False)
    data = v2["LaunchTemplateData"]
    assert (data["InstanceType"], data["ImageId"], data["UserData"]) == (
        "m5.large", "ami-0123456789abcdef0", USER_DATA,
    )  # fmt: skip
    assert data["MetadataOptions"] == {"HttpTokens": "required", "HttpPutResponseHopLimit": 2}
    assert data["SecurityGroupIds"] == ["sg-0123456789abcdef0"]
    assert data["TagSpecifications"][0]["Tags"] == [{"Key": "Name", "Value": "web"}]

    (latest,) = ec2.describe_launch_template_versions(LaunchTemplateId=lt_id, Versions=["$Latest"])[
        "LaunchTemplateVersions"
    ]
    assert latest["VersionNumber"] == 2
    ec2.modify_launch_template(LaunchTemplateId=lt_id, DefaultVersion="2")
    (default,) = ec2.describe_launch_template_versions(
        LaunchTemplateId=lt_id, Versions=["$Default"]
    )["LaunchTemplateVersions"]
    assert (default["VersionNumber"], default["DefaultVersion"]) == (2, True)
    found = ec2.describe_launch_templates(Filters=[{"Name": "tag:team", "Values": ["a"]}])
    assert [t["LaunchTemplateId"] for t in found["LaunchTemplates"]] == [lt_id]

    deleted = ec2.delete_launch_template_versions(LaunchTemplateId=lt_id, Versions=["1", "2"])
    assert [v["VersionNumber"] for v in deleted["SuccessfullyDeletedLaunchTemplateVersions"]] == [1]
    (refused,) = deleted["UnsuccessfullyDeletedLaunchTemplateVersions"]
    assert refused["VersionNumber"] == 2
    ec2.delete_launch_template(LaunchTemplateName="web")
    assert ec2.describe_launch_templates()["LaunchTemplates"] == []


def test_errors_in_ec2_shape(dockyard: DockyardProcess) -> None:
    ec2 = ec2_of(dockyard)
    ec2.create_launch_template(
        LaunchTemplateName="dup", LaunchTemplateData={"InstanceType": "t3.micro"}
    )
    dup = error(
        ec2.create_launch_template,
        LaunchTemplateName="dup",
        LaunchTemplateData={"InstanceType": "t3.micro"},
    )
    assert dup["Error"]["Code"] == "InvalidLaunchTemplateName.AlreadyExistsException"
    assert dup["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert dup["ResponseMetadata"]["RequestId"]
    missing = error(ec2.describe_launch_templates, LaunchTemplateNames=["nope"])
    assert missing["Error"]["Code"] == "InvalidLaunchTemplateName.NotFoundException"
    version = error(ec2.describe_launch_template_versions, LaunchTemplateName="dup", Versions=["5"])
    assert version["Error"]["Code"] == "InvalidLaunchTemplateId.VersionNotFound"
    dry = error(
        ec2.create_launch_template,
        LaunchTemplateName="dry",
        LaunchTemplateData={"InstanceType": "t3.micro"},
        DryRun=True,
    )
    assert dry["Error"]["Code"] == "DryRunOperation"


def test_templates_with_the_aws_cli(dockyard: DockyardProcess) -> None:
    data = json.dumps({"InstanceType": "t3.small", "UserData": USER_DATA})
    made = aws_json(
        dockyard.endpoint, "ec2", "create-launch-template",
        "--launch-template-name", f"cli-{uuid.uuid4().hex[:8]}",
        "--launch-template-data", data,
    )  # fmt: skip
    lt_id = made["LaunchTemplate"]["LaunchTemplateId"]
    shown = aws_json(
        dockyard.endpoint, "ec2", "describe-launch-template-versions",
        "--launch-template-id", lt_id, "--versions", "$Latest",
    )  # fmt: skip
    (v,) = shown["LaunchTemplateVersions"]
    assert v["LaunchTemplateData"] == {"InstanceType": "t3.small", "UserData": USER_DATA}
    aws_json(dockyard.endpoint, "ec2", "delete-launch-template", "--launch-template-id", lt_id)


def _files_mention(root: Path, text: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and text in p.read_bytes()]


def test_templates_survive_kill_9_sealed(fresh_server: Callable[..., DockyardProcess]) -> None:
    server = fresh_server("--runtime", "process")
    key = account()
    ec2 = ec2_of(server, key)
    lt_id = ec2.create_launch_template(
        LaunchTemplateName="kept", LaunchTemplateData={"UserData": USER_DATA}
    )["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(
        LaunchTemplateId=lt_id, LaunchTemplateData={"InstanceType": "t3.micro"}
    )
    before = ec2.describe_launch_template_versions(LaunchTemplateId=lt_id)
    server.kill()
    assert _files_mention(server.data_dir, USER_DATA.encode()) == []
    again = fresh_server("--runtime", "process", data_dir=server.data_dir)
    after = ec2_of(again, key).describe_launch_template_versions(LaunchTemplateId=lt_id)
    assert after["LaunchTemplateVersions"] == before["LaunchTemplateVersions"]


RECOMMENDED = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"


def test_ssm_recommended_image_is_the_ecs_optimized_image(dockyard: DockyardProcess) -> None:
    key = account()
    ec2 = ec2_of(dockyard, key)
    ssm = make_client("ssm", dockyard.endpoint, access_key=key)
    image_id = ssm.get_parameter(Name=f"{RECOMMENDED}/image_id")["Parameter"]["Value"]
    (image,) = ec2.describe_images(ImageIds=[image_id])["Images"]
    assert image["Name"].startswith("al2023-ami-ecs-hvm-")
    assert (image["OwnerId"], image["State"]) == ("591542846629", "available")
    document = json.loads(ssm.get_parameter(Name=RECOMMENDED)["Parameter"]["Value"])
    assert (document["image_id"], document["image_name"]) == (image_id, image["Name"])
    # What Terraform's aws_ami data source and CloudFormation templates look up.
    found = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-ecs-hvm-*"]}]
    )["Images"]
    assert [i["ImageId"] for i in found] == [image_id]
    everything = ec2.describe_images()["Images"]
    assert len(everything) == 2
    by_path = ssm.get_parameters_by_path(Path=RECOMMENDED)["Parameters"]
    assert f"{RECOMMENDED}/image_id" in {p["Name"] for p in by_path}


def test_images_with_the_aws_cli(dockyard: DockyardProcess) -> None:
    shown = aws_json(
        dockyard.endpoint, "ssm", "get-parameters",
        "--names", f"{RECOMMENDED}/image_id",
    )  # fmt: skip
    (parameter,) = shown["Parameters"]
    images = aws_json(
        dockyard.endpoint, "ec2", "describe-images", "--image-ids", parameter["Value"],
    )  # fmt: skip
    assert [i["ImageId"] for i in images["Images"]] == [parameter["Value"]]
    missing = run_aws(
        dockyard.endpoint, "ec2", "describe-images", "--image-ids", "ami-0000000000000000a",
        check=False,
    )  # fmt: skip
    assert missing.returncode != 0 and "InvalidAMIID.NotFound" in missing.stderr
