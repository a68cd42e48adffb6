"""EC2 instances through a real server, to boto3 and the AWS CLI.

Without hosts (`--no-hosts`) RunInstances answers UnsupportedOperation (HTTP 501) naming
why, while DescribeInstances and DescribeInstanceStatus answer empty lists and unknown ids
answer EC2's errors. With hosts (a root server with the micro-host runtime) an instance of
the plain image runs its user data script: GetConsoleOutput shows what it printed, and its
busybox httpd answers while the instance runs, not once it is stopped or terminated, and
again once started. The tests that need hosts are skipped, naming why, on a server without
them."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import aws_json, make_client, run_aws
from tests.integration.ec2_hosts import (
    BOOT,
    Cleanup,
    cleanup,
    launch_or_skip,
    launch_web_instance,
    own_vpc,
    plain_image,
    state_of,
)
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

__all__ = ["cleanup"]  # the fixture
SCRIPT = b"""#!/bin/sh
echo "user data ran on $(hostname)"
echo "metadata says $(busybox wget -qO- http://169.254.169.254/latest/meta-data/instance-id)"
mkdir -p www
echo served-by-the-instance > www/index.html
exec busybox httpd -f -p 8080 -h www
"""


def ec2_of(server: DockyardProcess) -> Any:
    key = str(uuid.uuid4().int)[:12].rjust(12, "1")
    return make_client("ec2", server.endpoint, access_key=key)


def test_run_instances_names_the_missing_host_runtime(
    fresh_server: Callable[..., DockyardProcess],
) -> None:
    server = fresh_server("--no-hosts", "--no-local-agent")
    ec2 = ec2_of(server)
    with pytest.raises(ClientError) as err:
        ec2.run_instances(ImageId=plain_image(ec2), MinCount=1, MaxCount=1)
    response = err.value.response
    assert response["Error"]["Code"] == "UnsupportedOperation"
    assert "this server has no host runtime" in response["Error"]["Message"]
    assert "--no-hosts" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["ResponseMetadata"]["RequestId"]
    assert ec2.describe_instances()["Reservations"] == []


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
        ec2.get_console_output(InstanceId="i-0123456789abcdef0")
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


# -- with hosts ----------------------------------------------------------------------------


def page(address: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{address}:8080/", timeout=2) as resp:
            return str(resp.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def test_a_user_data_script_runs_stops_and_starts_with_its_instance(
    dockyard: DockyardProcess, cleanup: Cleanup
) -> None:
    ec2 = ec2_of(dockyard)
    cleanup.ec2.append(ec2)
    net = own_vpc(ec2)
    launched = launch_web_instance(ec2, net, SCRIPT.decode())
    group = launched["SecurityGroups"][0]
    iid, address = launched["InstanceId"], launched["PrivateIpAddress"]
    assert launched["State"]["Name"] == "pending"
    wait_for(lambda: state_of(ec2, iid) == "running", BOOT, "the instance to run")
    assert wait_for(lambda: page(address), BOOT, "the instance's httpd") == (
        "served-by-the-instance\n"
    )

    def console() -> str:  # boto3 decodes EC2's base64, as the AWS CLI does
        out = ec2.get_console_output(InstanceId=iid, Latest=True)
        return str(out.get("Output", ""))

    assert "user data ran on ip-" in wait_for(console, BOOT, "the script's output")
    assert f"metadata says {iid}" in console()  # the metadata service answers in the host
    statuses = wait_for(
        lambda: [
            s for s in ec2.describe_instance_status(InstanceIds=[iid])["InstanceStatuses"]
            if s["InstanceStatus"]["Status"] == "ok"
        ],
        BOOT, "status checks to pass",
    )  # fmt: skip
    assert statuses[0]["SystemStatus"]["Status"] == "ok"

    ec2.stop_instances(InstanceIds=[iid])
    wait_for(lambda: state_of(ec2, iid) == "stopped", BOOT, "the instance to stop")
    stopped = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert stopped["StateReason"]["Code"] == "Client.UserInitiatedShutdown"
    assert page(address) is None

    ec2.start_instances(InstanceIds=[iid])
    wait_for(lambda: state_of(ec2, iid) == "running", BOOT, "the instance to run again")
    wait_for(lambda: page(address), BOOT, "the httpd after the start")

    # The group's rule is what lets the machine in: without it, nothing answers.
    ec2.revoke_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                        "IpRanges": [{"CidrIp": net.cidr}]}],
    )  # fmt: skip
    wait_for(lambda: page(address) is None, BOOT, "the firewall to close")

    ec2.terminate_instances(InstanceIds=[iid])
    wait_for(lambda: state_of(ec2, iid) == "terminated", BOOT, "the instance to terminate")
    assert page(address) is None


def test_the_aws_cli_runs_and_terminates_an_instance(
    dockyard: DockyardProcess, cleanup: Cleanup
) -> None:
    ec2 = make_client("ec2", dockyard.endpoint)  # the CLI's account
    cleanup.ec2.append(ec2)
    net = own_vpc(ec2)
    image, subnet = plain_image(ec2), net.subnets[0]["SubnetId"]
    launch_or_skip(ec2, ImageId=image, SubnetId=subnet, UserData="#!/bin/sh\nexec sleep 60\n")
    out = aws_json(dockyard.endpoint, "ec2", "run-instances", "--image-id", image,
                   "--count", "1", "--subnet-id", subnet,
                   "--user-data", "#!/bin/sh\necho from-the-cli\nexec sleep 3600\n",
                   "--tag-specifications",
                   "ResourceType=instance,Tags=[{Key=Name,Value=cli}]")  # fmt: skip
    iid = out["Instances"][0]["InstanceId"]
    assert out["Instances"][0]["Tags"] == [{"Key": "Name", "Value": "cli"}]
    wait_for(
        lambda: aws_json(dockyard.endpoint, "ec2", "describe-instances", "--instance-ids", iid,
                         "--query", "Reservations[0].Instances[0].State.Name") == "running",
        BOOT, "the instance to run",
    )  # fmt: skip
    text = wait_for(
        lambda: aws_json(dockyard.endpoint, "ec2", "get-console-output", "--instance-id", iid,
                         "--latest").get("Output", ""),
        BOOT, "console output",
    )  # fmt: skip
    assert "from-the-cli" in text  # the CLI decodes the base64 for us
    done = aws_json(dockyard.endpoint, "ec2", "terminate-instances", "--instance-ids", iid)
    assert done["TerminatingInstances"][0]["CurrentState"]["Name"] == "shutting-down"


def test_an_ecs_optimized_instance_joins_the_cluster_of_its_user_data(
    fresh_server: Callable[..., DockyardProcess], tmp_path: Path, cleanup: Cleanup
) -> None:
    auth = tmp_path / "auth"
    auth.write_text("test test\n")
    # With an auth file agents must join with a token: the instance's agent is handed one.
    server = fresh_server("--auth-file", str(auth), "--no-local-agent", "--runtime", "process")
    ec2, ecs = make_client("ec2", server.endpoint), make_client("ecs", server.endpoint)
    cleanup.ec2.append(ec2)
    cluster = f"hosts-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=cluster)
    net = own_vpc(ec2)
    images = ec2.describe_images(Owners=["amazon"])["Images"]
    image = next(i["ImageId"] for i in images if "ecs" in i["Name"].lower())
    user_data = f"#!/bin/bash\necho ECS_CLUSTER={cluster} >> /etc/ecs/ecs.config\n"
    launched = launch_or_skip(
        ec2, ImageId=image, UserData=user_data, SubnetId=net.subnets[0]["SubnetId"]
    )
    iid = launched["InstanceId"]
    wait_for(lambda: state_of(ec2, iid) == "running", BOOT, "the instance to run")
    arns = wait_for(
        lambda: ecs.list_container_instances(cluster=cluster)["containerInstanceArns"],
        120.0, "the instance's agent to register", 0.5,
    )  # fmt: skip

    def connected() -> dict[str, Any] | None:
        (found,) = ecs.describe_container_instances(cluster=cluster, containerInstances=arns)[
            "containerInstances"
        ]
        return found if found["agentConnected"] and found["status"] == "ACTIVE" else None

    # The agent registers, then connects (as ECS's agent does): wait for both.
    instance = wait_for(connected, 60.0, "the registered agent to connect", 0.5)
    assert instance is not None
    # It registered as its EC2 instance, with the identity document the server signed.
    assert instance["ec2InstanceId"] == iid
    attributes = {a["name"]: a.get("value") for a in instance["attributes"]}
    assert attributes["ecs.availability-zone"] == net.subnets[0]["AvailabilityZone"]
    ec2.terminate_instances(InstanceIds=[iid])
    wait_for(lambda: state_of(ec2, iid) == "terminated", BOOT, "the instance to terminate")
    assert wait_for(
        lambda: not ecs.describe_container_instances(cluster=cluster, containerInstances=arns)[
            "containerInstances"
        ][0]["agentConnected"],
        120.0, "the agent to show as disconnected", 0.5,
    )  # fmt: skip


def test_instances_keep_running_across_a_server_restart(
    fresh_server: Callable[..., DockyardProcess], tmp_path: Path, cleanup: Cleanup
) -> None:
    first = fresh_server("--no-local-agent", data_dir=tmp_path / "kept")
    ec2 = make_client("ec2", first.endpoint)
    launched = launch_web_instance(ec2, own_vpc(ec2), SCRIPT.decode())
    iid, address = launched["InstanceId"], launched["PrivateIpAddress"]
    wait_for(lambda: page(address), BOOT, "the instance's httpd")
    first.stop()
    assert page(address) is not None  # the host outlives the server
    again = fresh_server("--no-local-agent", data_dir=tmp_path / "kept", port=first.port)
    ec2 = make_client("ec2", again.endpoint)
    cleanup.ec2.append(ec2)
    assert state_of(ec2, iid) == "running"
    assert page(address) == "served-by-the-instance\n"
    ec2.stop_instances(InstanceIds=[iid])
    wait_for(lambda: state_of(ec2, iid) == "stopped", BOOT, "the adopted instance to stop")
    assert page(address) is None
