"""Public parameters: the recommended ECS-optimized image of each region, read-only."""

from __future__ import annotations

import json

from dockyard.api.access import AccessRequest
from dockyard.core.images import ecs_optimized_image, plain_image
from dockyard.services.ssm import Ssm
from dockyard.services.ssm.access import access
from tests.unit.services.ssm.conftest import ACCOUNT, REGION, Call, error_of, make_call

RECOMMENDED = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"


def test_recommended_image_id_and_document(call: Call) -> None:
    image = ecs_optimized_image("us-east-1")
    shown = call("GetParameter", Name=f"{RECOMMENDED}/image_id")["Parameter"]
    assert (shown["Value"], shown["Type"], shown["Version"]) == (image.image_id, "String", 1)
    assert shown["ARN"] == f"arn:aws:ssm:us-east-1::parameter{RECOMMENDED}/image_id"
    document = json.loads(call("GetParameter", Name=RECOMMENDED)["Parameter"]["Value"])
    assert document["image_id"] == image.image_id
    assert document["image_name"] == image.name
    assert document["os"] == "Amazon Linux 2023"


def test_each_region_has_its_own_image(ssm: Ssm) -> None:
    west = make_call(ssm, region="eu-west-1")
    value = west("GetParameter", Name=f"{RECOMMENDED}/image_id")["Parameter"]["Value"]
    assert value == ecs_optimized_image("eu-west-1").image_id
    assert value != ecs_optimized_image("us-east-1").image_id
    plain = west(
        "GetParameter", Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-"
        + plain_image("eu-west-1").architecture,
    )["Parameter"]["Value"]  # fmt: skip
    assert plain == plain_image("eu-west-1").image_id


def test_get_parameters_and_by_path(call: Call) -> None:
    out = call("GetParameters", Names=[f"{RECOMMENDED}/image_id", "/aws/service/nope"])
    assert [p["Name"] for p in out["Parameters"]] == [f"{RECOMMENDED}/image_id"]
    assert out["InvalidParameters"] == ["/aws/service/nope"]
    children = call("GetParametersByPath", Path=RECOMMENDED)["Parameters"]
    names = {p["Name"].rsplit("/", 1)[-1] for p in children}
    assert {"image_id", "image_name", "image_version", "os", "schema_version"} <= names
    assert call("GetParametersByPath", Path="/aws/service/ecs")["Parameters"] == []
    deep = call("GetParametersByPath", Path="/aws/service/ecs", Recursive=True, MaxResults=10)
    assert any(p["Name"] == RECOMMENDED for p in deep["Parameters"])


def test_public_parameters_are_read_only(call: Call) -> None:
    err = error_of(call, "PutParameter", Name=f"{RECOMMENDED}/image_id", Value="ami-1",
                   Type="String", Overwrite=True)  # fmt: skip
    assert err.code == "ValidationException"
    err = error_of(call, "DeleteParameter", Name=f"{RECOMMENDED}/image_id")
    assert err.code == "ParameterNotFound"
    err = error_of(call, "LabelParameterVersion", Name=f"{RECOMMENDED}/image_id", Labels=["x"])
    assert err.code == "ParameterNotFound"
    # Not listed with the account's own parameters.
    assert call("DescribeParameters")["Parameters"] == []


def test_public_parameters_are_authorized_on_arns_without_an_account(ssm: Ssm) -> None:
    request = AccessRequest(ACCOUNT, REGION, "GetParameter", {"Name": f"{RECOMMENDED}/image_id"})
    (pair,) = list(access(ssm.parameters)(request))
    assert pair.resource == f"arn:aws:ssm:{REGION}::parameter{RECOMMENDED}/image_id"
    own = AccessRequest(ACCOUNT, REGION, "GetParameter", {"Name": "/app/db"})
    (mine,) = list(access(ssm.parameters)(own))
    assert mine.resource == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db"
