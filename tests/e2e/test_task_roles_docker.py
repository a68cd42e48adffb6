"""Task role credentials in Docker containers, through a real server with IAM enforced:
boto3 in an image built FROM scratch finds its role's credentials with no configuration
(bridge and host networks) and calls Dockyard as that role, whose policies decide."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.pyimage import build_python_image
from tests.support.server import DockyardProcess
from tests.support.taskroles import (
    ACCOUNT,
    PARAMETER,
    ROOT_KEY,
    VALUE,
    auth_file,
    container,
    output,
    role,
    stopped,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def python_image(docker_client: Any) -> str:
    return build_python_image(docker_client)


@pytest.fixture(scope="module")
def server(
    python_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DockyardProcess]:
    base = tmp_path_factory.mktemp("taskroles-docker")
    # Reachable from the containers' networks as well as from the host.
    proc = DockyardProcess(
        base / "data", "--runtime", "docker", "--auth-file", str(auth_file(base)),
        "--host", "0.0.0.0",
    )  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


def client(server: DockyardProcess, service: str) -> Any:
    return make_client(service, server.endpoint, access_key=ROOT_KEY)


def endpoint_from(docker_client: Any, server: DockyardProcess, mode: str) -> str:
    """Where a container on `mode` reaches the server: loopback, or docker0's gateway."""
    if mode == "host":
        return f"http://127.0.0.1:{server.port}"
    config = docker_client.networks.get("bridge").attrs["IPAM"]["Config"]
    subnet = next(c for c in config if ":" not in c["Subnet"])
    gateway = subnet.get("Gateway") or str(next(ipaddress.ip_network(subnet["Subnet"]).hosts()))
    return f"http://{gateway}:{server.port}"


@pytest.mark.parametrize("mode", ["bridge", "host"])
def test_a_docker_task_calls_dockyard_as_its_role(
    server: DockyardProcess, python_image: str, docker_client: Any, mode: str
) -> None:
    iam, ssm = client(server, "iam"), client(server, "ssm")
    ecs, logs = client(server, "ecs"), client(server, "logs")
    suffix = uuid.uuid4().hex[:6]
    roles = {
        "allowed": role(iam, f"allowed-{mode}-{suffix}", PARAMETER),
        "denied": role(iam, f"denied-{mode}-{suffix}", "/app/other"),
    }
    ssm.put_parameter(Name=PARAMETER, Value=VALUE, Type="String", Overwrite=True)
    group = f"/e2e/roles-{suffix}"
    arns = {}
    for which, role_arn in roles.items():
        taskdef = ecs.register_task_definition(
            family=f"e2e-roles-{which}-{mode}",
            networkMode=mode,
            taskRoleArn=role_arn,
            containerDefinitions=[container(
                python_image, ["/usr/bin/python3", "-c"],
                endpoint_from(docker_client, server, mode), group,
            )],
        )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
        arns[which] = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]

    allowed = stopped(ecs, arns["allowed"])
    printed = output(logs, group, arns["allowed"])
    assert allowed["containers"][0]["exitCode"] == 0, printed
    task_id = arns["allowed"].rsplit("/", 1)[1]
    role_name = roles["allowed"].rsplit("/", 1)[1]
    assert f"caller arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{task_id}" in printed
    assert f"'Value': '{VALUE}'" in printed

    denied = stopped(ecs, arns["denied"])
    printed = output(logs, group, arns["denied"])
    assert denied["containers"][0]["exitCode"] == 1, printed
    assert "AccessDeniedException" in printed
    assert VALUE not in printed
