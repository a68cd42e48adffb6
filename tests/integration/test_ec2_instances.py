"""EC2 instances through a real server without a host runtime: RunInstances answers
UnsupportedOperation (HTTP 501) naming why, in EC2's error shape, while DescribeInstances and
DescribeInstanceStatus answer empty lists and unknown ids answer EC2's errors, to boto3 and
the AWS CLI."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client, run_aws
from tests.support.server import DockyardProcess


def ec2_of(server: DockyardProcess) -> Any:
    key = str(uuid.uuid4().int)[:12].rjust(12, "1")
    return make_client("ec2", server.endpoint, access_key=key)


def test_run_instances_names_the_missing_host_runtime(dockyard: DockyardProcess) -> None:
    ec2 = ec2_of(dockyard)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
    response = err.value.response
    assert response["Error"]["Code"] == "UnsupportedOperation"
    assert "this server has no host runtime" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["ResponseMetadata"]["RequestId"]


def test_describe_instances_answers_empty_lists(dockyard: DockyardProcess) -> None:
    ec2 = ec2_of(dockyard)
    assert ec2.describe_instances()["Reservations"] == []
    assert ec2.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"] == []
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-state-name", "Values": ["running"]}]
    )
    assert [r for page in pages for r in page["Reservations"]] == []
    with pytest.raises(ClientError) as err:
        ec2.stop_instances(InstanceIds=["i-0123456789abcdef0"])
    assert err.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as err:
        ec2.describe_instances(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_instances_with_the_aws_cli(dockyard: DockyardProcess) -> None:
    assert aws_json(dockyard.endpoint, "ec2", "describe-instances") == {"Reservations": []}
    done = run_aws(
        dockyard.endpoint,
        "ec2",
        "terminate-instances",
        "--instance-ids",
        "i-0123456789abcdef0",
        check=False,
    )
    assert done.returncode != 0
    assert "InvalidInstanceID.NotFound" in done.stderr
