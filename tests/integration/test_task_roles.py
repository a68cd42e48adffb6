"""Task role credentials through a real server with IAM enforced, process driver: boto3 in a
task finds its role's credentials with no configuration (host and bridge networks) and calls
Dockyard as that role, whose policies decide; a role ecs-tasks may not assume stops the task
before it starts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.drivers.hostnet import HostNetwork
from tests.integration.conftest import make_client
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
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    base = tmp_path_factory.mktemp("taskroles")
    # Reachable from task namespaces (bridge) as well as from the host; the tests' python
    # lives under /root, so its tasks run as root (a task policy grant).
    proc = DockyardProcess(
        base / "data", "--runtime", "process", "--auth-file", str(auth_file(base)),
        "--host", "0.0.0.0", "--allow-root-tasks",
    )  # fmt: skip
    proc.start()
    yield proc
    proc.forget_tasks()
    proc.stop()


def client(server: DockyardProcess, service: str) -> Any:
    return make_client(service, server.endpoint, access_key=ROOT_KEY)


@pytest.fixture(scope="module")
def roles(server: DockyardProcess) -> dict[str, str]:
    iam, ssm = client(server, "iam"), client(server, "ssm")
    ssm.put_parameter(Name=PARAMETER, Value=VALUE, Type="String")
    ssm.put_parameter(Name="/app/other", Value="other", Type="String")
    suffix = uuid.uuid4().hex[:6]
    return {
        "allowed": role(iam, f"allowed-{suffix}", PARAMETER),
        "denied": role(iam, f"denied-{suffix}", "/app/other"),
        "untrusted": role(iam, f"untrusted-{suffix}", PARAMETER, service="ec2.amazonaws.com"),
    }


def endpoint_from(server: DockyardProcess, mode: str) -> str:
    """Where a task on `mode` reaches the server: loopback, or the bridge's gateway."""
    host = "127.0.0.1" if mode == "host" else HostNetwork().gateway
    return f"http://{host}:{server.port}"


@pytest.mark.parametrize("mode", ["host", "bridge"])
def test_a_task_calls_dockyard_as_its_role(
    server: DockyardProcess, roles: dict[str, str], mode: str, tmp_path: Path
) -> None:
    ecs, logs = client(server, "ecs"), client(server, "logs")
    group = f"/ecs/roles-{uuid.uuid4().hex[:6]}"
    arns = {}
    for which in ("allowed", "denied"):
        taskdef = ecs.register_task_definition(
            family=f"roles-{which}-{mode}",
            networkMode=mode,
            taskRoleArn=roles[which],
            containerDefinitions=[container(
                "process:/tmp", [sys.executable, "-c"], endpoint_from(server, mode), group,
                user="root",
            )],
        )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
        arns[which] = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]

    allowed = stopped(ecs, arns["allowed"])
    assert allowed["containers"][0]["exitCode"] == 0, output(logs, group, arns["allowed"])
    printed = output(logs, group, arns["allowed"])
    task_id = arns["allowed"].rsplit("/", 1)[1]
    role_name = roles["allowed"].rsplit("/", 1)[1]
    assert f"caller arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/{task_id}" in printed
    assert f"'Value': '{VALUE}'" in printed

    denied = stopped(ecs, arns["denied"])
    assert denied["containers"][0]["exitCode"] == 1
    printed = output(logs, group, arns["denied"])
    assert "AccessDeniedException" in printed
    assert "not authorized to perform: ssm:GetParameter on resource: " in printed
    assert VALUE not in printed
    # DescribeTasks shows the role, never the credentials.
    assert allowed["overrides"].get("taskRoleArn") in (None, roles["allowed"])


def test_a_role_ecs_tasks_may_not_assume_stops_the_task_before_it_starts(
    server: DockyardProcess, roles: dict[str, str]
) -> None:
    ecs = client(server, "ecs")
    taskdef = ecs.register_task_definition(
        family="roles-untrusted",
        networkMode="host",
        taskRoleArn=roles["untrusted"],
        containerDefinitions=[container(
            "process:/tmp", [sys.executable, "-c"], endpoint_from(server, "host"), "/ecs/untrusted",
            user="root",
        )],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    task = stopped(ecs, arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == (
        f"ECS was unable to assume the role '{roles['untrusted']}' that was provided for this "
        "task. Please verify that the role being passed has the proper trust relationship and "
        "permissions and that your IAM user has permissions to pass this role."
    )
    assert "exitCode" not in task["containers"][0]


def test_secrets_and_logs_are_done_as_the_execution_role(
    server: DockyardProcess, roles: dict[str, str]
) -> None:
    iam, ecs, logs = client(server, "iam"), client(server, "ecs"), client(server, "logs")
    suffix = uuid.uuid4().hex[:6]
    group = f"/ecs/exec-{suffix}"
    read_secrets = {
        "Effect": "Allow",
        "Action": "ssm:GetParameters",
        "Resource": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/*",
    }
    write_logs = {
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*",
    }
    grants = {"reader": [read_secrets, write_logs], "stranger": [write_logs],
              "mute": [read_secrets]}  # fmt: skip
    arns = {}
    for which, statements in grants.items():
        name = f"exec-{which}-{suffix}"
        role_arn = role(iam, name, None)
        iam.put_role_policy(
            RoleName=name,
            PolicyName="execution",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        taskdef = ecs.register_task_definition(
            family=f"exec-{which}",
            networkMode="host",
            executionRoleArn=role_arn,
            containerDefinitions=[{
                "name": "app", "image": "process:/tmp", "memory": 64, "essential": True,
                "entryPoint": ["sh", "-c"], "command": ['echo "secret=$SECRET"'],
                "secrets": [{"name": "SECRET", "valueFrom": PARAMETER}],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": group, "awslogs-stream-prefix": "app",
                    "awslogs-create-group": "true", "awslogs-region": "us-east-1"}},
            }],
        )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
        arns[which] = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]

    read = stopped(ecs, arns["reader"])
    assert read["stopCode"] == "EssentialContainerExited", read.get("stoppedReason")
    stream = f"app/app/{arns['reader'].rsplit('/', 1)[1]}"
    printed = wait_for(
        lambda: [e["message"] for e in logs.get_log_events(
            logGroupName=group, logStreamName=stream)["events"]],
        what="the container's output",
    )  # fmt: skip
    assert printed == [f"secret={VALUE}"]

    def session(which: str) -> str:
        task_id = arns[which].rsplit("/", 1)[1]
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/exec-{which}-{suffix}/{task_id}"

    refused = stopped(ecs, arns["stranger"])
    assert refused["stopCode"] == "TaskFailedToStart"
    assert refused["stoppedReason"] == (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution "
        "resource retrieval failed: unable to retrieve secrets from ssm: service call has been "
        f"retried 1 time(s): AccessDeniedException: User: {session('stranger')} is not "
        "authorized to perform: ssm:GetParameters on resource: "
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter{PARAMETER} because no identity-based "
        "policy allows the ssm:GetParameters action"
    )
    mute = stopped(ecs, arns["mute"])
    mute_stream = f"app/app/{arns['mute'].rsplit('/', 1)[1]}"
    assert mute["stopCode"] == "TaskFailedToStart"
    assert mute["stoppedReason"] == (
        "ResourceInitializationError: failed to validate logger args: create stream has been "
        "retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: "
        f"User: {session('mute')} is not authorized to perform: logs:CreateLogStream on "
        f"resource: arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:log-stream:{mute_stream} "
        "because no identity-based policy allows the logs:CreateLogStream action"
    )


def test_a_remote_agent_beside_the_embedded_one_serves_its_tasks_credentials(
    server: DockyardProcess, roles: dict[str, str], tmp_path: Path
) -> None:
    """A second agent on this host (over the HTTP agent protocol, with its own port)."""
    ecs, logs = client(server, "ecs"), client(server, "logs")
    cluster = f"remote-{uuid.uuid4().hex[:6]}"
    ecs.create_cluster(clusterName=cluster)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCKYARD_"))}
    env.update(AWS_ACCESS_KEY_ID=ROOT_KEY, AWS_SECRET_ACCESS_KEY="test")
    issued = subprocess.run(
        [sys.executable, "-m", "dockyard", "join-token", "--server", server.endpoint,
         "--cluster", cluster],
        capture_output=True, text=True, timeout=60, env=env, check=True,
    )  # fmt: skip
    token = tmp_path / "token"
    token.write_text(issued.stdout.strip())
    log_path = tmp_path / "agent.log"
    with open(log_path, "ab") as log:
        agent = subprocess.Popen(
            [sys.executable, "-m", "dockyard", "agent", "--server", server.endpoint,
             "--cluster", cluster, "--data-dir", str(tmp_path / "agent"),
             "--runtime", "process", "--token-file", str(token)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        wait_for(
            lambda: ecs.list_container_instances(cluster=cluster)["containerInstanceArns"],
            timeout=30,
            what="the remote agent registered",
        )
        group = f"/ecs/remote-{uuid.uuid4().hex[:6]}"
        taskdef = ecs.register_task_definition(
            family="roles-remote",
            networkMode="host",
            taskRoleArn=roles["allowed"],
            containerDefinitions=[container(
                "process:/tmp", [sys.executable, "-c"], endpoint_from(server, "host"), group,
                user="root",
            )],
        )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
        arn = ecs.run_task(cluster=cluster, taskDefinition=taskdef)["tasks"][0]["taskArn"]
        task = wait_for(
            lambda: (
                (t := ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0])["lastStatus"]
                == "STOPPED"
                and t
            ),
            timeout=90,
            what="the remote task STOPPED",
        )
        printed = output(logs, group, arn)
        assert task["containers"][0]["exitCode"] == 0, printed + log_path.read_text()[-2000:]
        assert f"'Value': '{VALUE}'" in printed
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
