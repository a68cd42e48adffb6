"""Security groups enforced between instances on micro-hosts: a group that allows only port
8080 from another group lets that group's members in, and nobody else; a rule added later
opens the way, one revoked closes it. Needs a root server (micro-hosts)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.integration.ec2_hosts import BOOT, own_vpc, plain_image
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("nsenter") is None, reason="micro-hosts need root"
)

SERVE = "#!/bin/sh\nmkdir -p /tmp/sg-$$ && echo hello > /tmp/sg-$$/index.html\n" \
        "exec /bin/busybox httpd -f -p 8080 -h /tmp/sg-$$\n"  # fmt: skip
IDLE = "#!/bin/sh\nexec sleep 3600\n"


@pytest.fixture
def ec2(tmp_path: Path) -> Iterator[Any]:
    server = DockyardProcess(tmp_path / "data", "--runtime", "process", "--no-local-agent")
    server.start()
    client = make_client("ec2", server.endpoint)
    try:
        yield client
    finally:
        reservations = client.describe_instances()["Reservations"]
        ids = [i["InstanceId"] for r in reservations for i in r["Instances"]]
        if ids:
            client.terminate_instances(InstanceIds=ids)

        def gone() -> bool:
            found = client.describe_instances(InstanceIds=ids)["Reservations"] if ids else []
            return all(i["State"]["Name"] == "terminated" for r in found for i in r["Instances"])

        wait_for(gone, BOOT, "the instances to terminate", 0.5)
        server.stop()


def launch(ec2: Any, image: str, subnet: str, group: str, script: str) -> dict[str, Any]:
    out = ec2.run_instances(
        ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet,
        SecurityGroupIds=[group], UserData=script,  # boto3 encodes it
    )["Instances"][0]  # fmt: skip
    return dict(out)


def running(ec2: Any, *ids: str) -> bool:
    found = ec2.describe_instances(InstanceIds=list(ids))["Reservations"]
    instances = [i for r in found for i in r["Instances"]]
    states = [i["State"]["Name"] for i in instances]
    assert "terminated" not in states, [i.get("StateReason") for i in instances]
    return all(state == "running" for state in states)


def fetch_from(instance_id: str | None, address: str) -> bool:
    """Whether `http://address:8080/` answers `hello` from inside the instance's host (from
    this machine when None)."""
    cmd = ["curl", "-s", "-m", "2", f"http://{address}:8080/"]
    if instance_id:
        cmd = ["nsenter", f"--net=/var/run/netns/dyhost-{instance_id}", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return out.stdout.strip() == "hello"


def test_only_the_allowed_group_reaches_port_8080(ec2: Any) -> None:
    net = own_vpc(ec2)
    image = plain_image(ec2)
    groups = {
        name: ec2.create_security_group(GroupName=name, Description=name, VpcId=net.vpc_id)[
            "GroupId"
        ]
        for name in ("server", "peer", "other")
    }
    ec2.authorize_security_group_ingress(
        GroupId=groups["server"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                        "UserIdGroupPairs": [{"GroupId": groups["peer"]}]}],
    )  # fmt: skip
    subnet = net.subnets[0]["SubnetId"]
    server = launch(ec2, image, subnet, groups["server"], SERVE)
    peer = launch(ec2, image, net.subnets[1]["SubnetId"], groups["peer"], IDLE)
    other = launch(ec2, image, subnet, groups["other"], IDLE)
    ids = [server["InstanceId"], peer["InstanceId"], other["InstanceId"]]
    wait_for(lambda: running(ec2, *ids), BOOT, "three running instances", 0.5)
    address = server["PrivateIpAddress"]

    wait_for(lambda: fetch_from(peer["InstanceId"], address), 30, "the peer to connect", 0.5)
    assert not fetch_from(other["InstanceId"], address)
    assert not fetch_from(None, address)  # this machine is in no group the rule names

    # a rule for the other group opens the way for it too; revoking the peer's closes it
    ec2.authorize_security_group_ingress(
        GroupId=groups["server"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                        "UserIdGroupPairs": [{"GroupId": groups["other"]}]}],
    )  # fmt: skip
    wait_for(lambda: fetch_from(other["InstanceId"], address), 30, "the other to connect", 0.5)
    ec2.revoke_security_group_ingress(
        GroupId=groups["server"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                        "UserIdGroupPairs": [{"GroupId": groups["peer"]}]}],
    )  # fmt: skip
    wait_for(lambda: not fetch_from(peer["InstanceId"], address), 30, "the peer shut out", 0.5)
    assert fetch_from(other["InstanceId"], address)
