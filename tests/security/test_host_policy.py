"""No unauthenticated root: a server running as root runs `process:` tasks as an
unprivileged user, refuses what would hand a caller the host (root, privileged, host paths,
the Docker socket, ...) unless the operator's task policy allows it, and does not serve its
API beyond loopback without credentials unless told so loudly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client, run_aws
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the server must run as root")
DOC = "docs/task-policy.md"
GROUP = "/security/tasks"


def start(data_dir: Path, *extra: str) -> DockyardProcess:
    """A server as an operator starts it: no DOCKYARD_TASK_USER (the suite sets one)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DOCKYARD_TASK_USER", raising=False)
        return DockyardProcess(data_dir, "--runtime", "process", *extra).start()


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    server = start(tmp_path_factory.mktemp("default") / "data")
    yield server
    server.forget_tasks()
    server.stop()


@pytest.fixture
def ecs(default_server: DockyardProcess) -> Any:
    return make_client("ecs", default_server.endpoint)


def container(name: str = "app", script: str = "id -u; id -g", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": "process:/",
        "memory": 64,
        "entryPoint": ["/bin/sh", "-c"],
        "command": [script],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": GROUP,
                "awslogs-stream-prefix": "t",
                "awslogs-create-group": "true",
                "awslogs-region": "us-east-1",
            },
        },
        **extra,
    }


def register(ecs: Any, *containers: dict[str, Any], **extra: Any) -> str:
    arn: str = ecs.register_task_definition(
        family=f"sec-{uuid.uuid4().hex[:8]}", containerDefinitions=list(containers), **extra
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def refused(call: Any, **params: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    error: dict[str, str] = caught.value.response["Error"]
    return error


def stopped(ecs: Any, arn: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        task: dict[str, Any] = ecs.describe_tasks(tasks=[arn])["tasks"][0]
        return task if task["lastStatus"] == "STOPPED" else None

    return wait_for(done, 30.0, f"task {arn} to stop")


def printed(server: DockyardProcess, arn: str, access_key: str = "test") -> list[str]:
    """What the task's container printed, read back from CloudWatch Logs."""
    logs = make_client("logs", server.endpoint, access_key=access_key)
    stream = f"t/app/{arn.rsplit('/', 1)[-1]}"

    def lines() -> list[str]:
        try:
            events = logs.get_log_events(logGroupName=GROUP, logStreamName=stream)["events"]
        except ClientError:
            return []
        return [e["message"] for e in events]

    return wait_for(lambda: len(lines()) >= 2 and lines(), 20.0, "the task's output")


def run_and_print(ecs: Any, server: DockyardProcess, taskdef: str) -> list[str]:
    out = ecs.run_task(taskDefinition=taskdef)
    assert not out["failures"], out["failures"]
    arn = out["tasks"][0]["taskArn"]
    task = stopped(ecs, arn)
    assert task["containers"][0].get("exitCode") == 0, task
    return printed(server, arn)


def test_a_caller_of_a_root_server_gets_no_root_process(
    ecs: Any, default_server: DockyardProcess
) -> None:
    assert run_and_print(ecs, default_server, register(ecs, container())) == ["65534", "65534"]


@pytest.fixture(scope="module")
def make_run_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    """The server as `make run` starts it: the default runtime (`auto`: Docker when an engine
    answers, with `process:` tasks still run as processes), no task user set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DOCKYARD_TASK_USER", raising=False)
        server = DockyardProcess(tmp_path_factory.mktemp("make-run") / "data").start()
    yield server
    server.forget_tasks()
    server.stop()


def test_the_quick_start_runs_as_the_unprivileged_user(make_run_server: DockyardProcess) -> None:
    default_server = make_run_server
    family = f"web-{uuid.uuid4().hex[:6]}"
    definition = [{"name": "web", "image": "process:/tmp", "memory": 128,
                   "command": ["python3", "-m", "http.server", "8080"],
                   "portMappings": [{"containerPort": 8080}]}]  # fmt: skip
    endpoint = default_server.endpoint
    run_aws(endpoint, "ecs", "register-task-definition", "--family", family, "--network-mode",
            "awsvpc", "--container-definitions", json.dumps(definition))  # fmt: skip
    network = "awsvpcConfiguration={subnets=[subnet-1]}"
    out = run_aws(endpoint, "ecs", "run-task", "--task-definition", family,
                  "--network-configuration", network)  # fmt: skip
    arn = json.loads(out.stdout)["tasks"][0]["taskArn"]
    ecs = make_client("ecs", endpoint)

    def address() -> str | None:
        task = ecs.describe_tasks(tasks=[arn])["tasks"][0]
        assert task["lastStatus"] != "STOPPED", task.get("stoppedReason")
        if task["lastStatus"] != "RUNNING":
            return None
        ip: str = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
        return ip

    ip = wait_for(address, 30.0, "the quick start task to run")

    def serves() -> bool:
        try:
            with urllib.request.urlopen(f"http://{ip}:8080/", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    wait_for(serves, 20.0, "the quick start's http.server to answer")
    pid = main_pid(default_server, arn)
    user = subprocess.run(["ps", "-o", "user=", "-p", str(pid)], capture_output=True,
                          text=True, check=True).stdout.strip()  # fmt: skip
    assert user in ("nobody", "65534")
    ecs.stop_task(task=arn)
    stopped(ecs, arn)


def main_pid(server: DockyardProcess, task_arn: str) -> int:
    for state in server.data_dir.glob("agent/process/containers/*/state.json"):
        if json.loads(state.read_text())["task_arn"] == task_arn:
            return int(json.loads((state.parent / "pid.json").read_text())["pid"])
    raise AssertionError(f"no process for {task_arn}")


@pytest.mark.parametrize("user", ["root", "0", "0:0"])
def test_user_root_is_refused_by_default_naming_the_container_and_the_policy(
    ecs: Any, user: str
) -> None:
    taskdef = register(ecs, container("web", user=user))
    error = refused(ecs.run_task, taskDefinition=taskdef)
    assert error["Code"] == "ClientException"
    assert error["Message"] == (
        f"container web: user {user} is not allowed by this server's task policy (default): "
        f"it needs 'rootUser'; see {DOC}"
    )
    assert ecs.list_tasks(family=taskdef.rsplit("/", 1)[-1].split(":")[0])["taskArns"] == []


def test_another_host_account_is_refused_by_default(ecs: Any) -> None:
    error = refused(ecs.run_task, taskDefinition=register(ecs, container(user="daemon")))
    assert error["Code"] == "ClientException"
    assert "user daemon" in error["Message"] and "'otherUsers'" in error["Message"]


@pytest.mark.parametrize(
    ("extra", "task_extra", "words"),
    [
        ({"privileged": True}, {}, "container app: privileged"),
        ({"linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}}}, {},
         "container app: linuxParameters.capabilities.add SYS_ADMIN"),
        ({"environmentFiles": [{"value": "/etc/shadow", "type": "s3"}]}, {},
         "container app: environmentFiles /etc/shadow"),
        ({"mountPoints": [{"sourceVolume": "h", "containerPath": "/mnt"}]},
         {"volumes": [{"name": "h", "host": {"sourcePath": "/etc"}}]},
         "volume h: host path /etc"),
        ({"mountPoints": [{"sourceVolume": "d", "containerPath": "/mnt"}]},
         {"volumes": [{"name": "d", "host": {"sourcePath": "/var/run/docker.sock"}}]},
         "volume d: host path /var/run/docker.sock"),
        ({}, {"pidMode": "host"}, "pidMode host"),
        ({}, {"ipcMode": "host"}, "ipcMode host"),
    ],
)  # fmt: skip
def test_host_powers_are_refused_by_default(
    ecs: Any, extra: dict[str, Any], task_extra: dict[str, Any], words: str
) -> None:
    taskdef = register(ecs, container(**extra), **task_extra)
    error = refused(ecs.run_task, taskDefinition=taskdef)
    assert error["Code"] == "ClientException"
    assert error["Message"].startswith(f"{words} is not allowed by this server's task policy")
    assert DOC in error["Message"]


def test_services_and_task_sets_are_checked_as_run_task_is(ecs: Any) -> None:
    root = register(ecs, container(user="root"))
    plain = register(ecs, container(script="sleep 30"))
    name = f"svc-{uuid.uuid4().hex[:6]}"
    error = refused(ecs.create_service, serviceName=name, taskDefinition=root, desiredCount=1)
    assert error["Code"] == "ClientException" and "user root" in error["Message"]
    ecs.create_service(serviceName=name, taskDefinition=plain, desiredCount=0)
    error = refused(ecs.update_service, service=name, taskDefinition=root)
    assert error["Code"] == "ClientException" and "user root" in error["Message"]
    service = ecs.describe_services(services=[name])["services"][0]
    assert service["taskDefinition"] == plain  # unchanged
    ecs.delete_service(service=name, force=True)
    external = f"ext-{uuid.uuid4().hex[:6]}"
    ecs.create_service(serviceName=external, desiredCount=0,
                       deploymentController={"type": "EXTERNAL"})  # fmt: skip
    error = refused(ecs.create_task_set, service=external, cluster="default",
                    taskDefinition=root)  # fmt: skip
    assert error["Code"] == "ClientException" and "user root" in error["Message"]
    ecs.delete_service(service=external, force=True)


def test_start_task_is_checked_as_run_task_is(ecs: Any) -> None:
    def instances() -> list[str]:
        arns: list[str] = ecs.list_container_instances()["containerInstanceArns"]
        return arns

    instance = wait_for(instances, 20.0, "the embedded agent to register")[0]
    taskdef = register(ecs, container(user="0:0"))
    error = refused(ecs.start_task, taskDefinition=taskdef, containerInstances=[instance])
    assert error["Code"] == "ClientException" and "user 0:0" in error["Message"]


def test_the_operator_allows_root_tasks_and_host_volumes_with_flags(
    tmp_path: Path,
) -> None:
    server = start(tmp_path / "data", "--allow-root-tasks", "--allow-host-volumes")
    try:
        ecs = make_client("ecs", server.endpoint)
        taskdef = register(ecs, container(user="root"))
        assert run_and_print(ecs, server, taskdef) == ["0", "0"]
        out_dir = tmp_path / "out"
        out_dir.mkdir()
        writer = container(
            script=f"id -u > {out_dir}/uid; id -u; id -g",
            user="0",
            mountPoints=[{"sourceVolume": "o", "containerPath": str(out_dir)}],
        )
        volumes = [{"name": "o", "host": {"sourcePath": str(out_dir)}}]
        taskdef = register(ecs, writer, volumes=volumes)
        assert run_and_print(ecs, server, taskdef) == ["0", "0"]
        assert (out_dir / "uid").read_text() == "0\n"
        error = refused(ecs.run_task, taskDefinition=register(ecs, container(privileged=True)))
        assert "'privileged'" in error["Message"]  # only what was allowed
    finally:
        server.forget_tasks()
        server.stop()


def test_a_narrowed_policy_stops_a_service_starting_tasks_it_no_longer_allows(
    tmp_path: Path,
) -> None:
    server = start(tmp_path / "data", "--allow-root-tasks")
    name = f"svc-{uuid.uuid4().hex[:6]}"
    try:
        ecs = make_client("ecs", server.endpoint)
        taskdef = register(ecs, container(user="root", script="sleep 60"))
        ecs.create_service(serviceName=name, taskDefinition=taskdef, desiredCount=1)
        wait_for(lambda: ecs.list_tasks(serviceName=name)["taskArns"], 20.0, "a service task")
        server.stop()
        server = start(tmp_path / "data")  # the operator drops --allow-root-tasks
        ecs = make_client("ecs", server.endpoint)
        ecs.update_service(service=name, desiredCount=2)

        def refusal() -> list[str]:
            events = ecs.describe_services(services=[name])["services"][0]["events"]
            return [e["message"] for e in events if "task policy" in e["message"]]

        message = wait_for(refusal, 30.0, "the service to record the refusal")[0]
        assert "container app: user root is not allowed by this server's task policy" in message
        ecs.update_service(service=name, desiredCount=0)
        ecs.delete_service(service=name, force=True)
    finally:
        server.forget_tasks()
        server.stop()


def signed(endpoint: str, service: str, key: str, secret: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 1}))  # fmt: skip


def test_a_policy_file_allows_more_to_an_admin_key_and_a_service_keeps_its_creators_policy(
    tmp_path: Path,
) -> None:
    auth = tmp_path / "auth"
    auth.write_text("ADMINKEY adminsecret\nDEVKEY devsecret\n")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"keys": {"ADMINKEY": {"name": "admin", "allow": ["rootUser"]}}}))
    server = start(tmp_path / "data", "--auth-file", str(auth), "--task-policy", str(policy))
    try:
        admin = signed(server.endpoint, "ecs", "ADMINKEY", "adminsecret")
        dev = signed(server.endpoint, "ecs", "DEVKEY", "devsecret")
        root = register(admin, container(user="root", script="sleep 30"))
        error = refused(dev.run_task, taskDefinition=root)
        assert error["Code"] == "ClientException"
        assert "task policy (default)" in error["Message"]
        name = f"svc-{uuid.uuid4().hex[:6]}"
        refused(dev.create_service, serviceName=name, taskDefinition=root, desiredCount=1)
        admin.create_service(serviceName=name, taskDefinition=root, desiredCount=1)
        dev.update_service(service=name, desiredCount=2)  # scaling keeps the admin's policy

        def running() -> list[str]:
            arns: list[str] = dev.list_tasks(serviceName=name)["taskArns"]
            tasks = dev.describe_tasks(tasks=arns)["tasks"] if arns else []
            return arns if len([t for t in tasks if t["lastStatus"] == "RUNNING"]) == 2 else []

        arns = wait_for(running, 30.0, "the admin's service to run two tasks")
        for arn in arns:
            pid = main_pid(server, arn)
            assert (Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0]) == "0"
        admin.update_service(service=name, desiredCount=0)
        admin.delete_service(service=name, force=True)
    finally:
        server.forget_tasks()
        server.stop()


def test_a_policy_per_key_without_auth_file_is_refused_at_start(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"keys": {"ADMINKEY": {"allow": ["*"]}}}))
    result = subprocess.run(
        [sys.executable, "-m", "dockyard", "server", "--port", str(free_port()),
         "--data-dir", str(tmp_path / "data"), "--task-policy", str(policy)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "need --auth-file" in result.stderr


def test_a_non_loopback_host_without_auth_file_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dockyard", "server", "--host", "0.0.0.0", "--port",
         str(free_port()), "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--host 0.0.0.0 serves the API beyond this machine without --auth-file" in result.stderr
    assert "--insecure-open-api" in result.stderr


def test_the_insecure_opt_out_serves_and_warns_loudly(tmp_path: Path) -> None:
    server = start(tmp_path / "data", "--host", "0.0.0.0", "--insecure-open-api",
                   "--no-local-agent")  # fmt: skip
    try:
        assert server.proc is not None and server.health()["pid"] == server.proc.pid
        warning = "ACCEPTS UNAUTHENTICATED CALLS FROM THE NETWORK (--insecure-open-api)"
        wait_for(lambda: warning in server.log(), 10.0, "the warning in the server log")
    finally:
        server.stop()


def test_a_task_cannot_read_another_tasks_environment_from_the_agents_files() -> None:
    with tempfile.TemporaryDirectory() as where:
        os.chmod(where, 0o755)  # a data dir others can reach, as /var/lib/dockyard may be
        server = start(Path(where) / "data")
        try:
            ecs = make_client("ecs", server.endpoint)
            holder = container(script="sleep 60", environment=[
                {"name": "API_TOKEN", "value": "s3cr3t-value"}])  # fmt: skip
            held = ecs.run_task(taskDefinition=register(ecs, holder))["tasks"][0]["taskArn"]
            wait_for(lambda: main_pid_or_none(server, held), 20.0, "the first task to run")
            configs = f"{server.data_dir}/agent/process/containers/*/config.json"
            spy = container(script=f"cat {configs} 2>/dev/null | grep -c s3cr3t; id -u")
            assert run_and_print(ecs, server, register(ecs, spy)) == ["0", "65534"]
            # The driver keeps the environment out of its files altogether (stdin to the shim).
            configs_found = list(server.data_dir.glob("agent/process/containers/*/config.json"))
            assert configs_found
            assert not any("s3cr3t-value" in p.read_text() for p in configs_found)
            ecs.stop_task(task=held)
        finally:
            server.forget_tasks()
            server.stop()


def main_pid_or_none(server: DockyardProcess, task_arn: str) -> int | None:
    try:
        return main_pid(server, task_arn)
    except (AssertionError, OSError, ValueError):
        return None


@pytest.fixture(scope="module")
def docker_image() -> Iterator[str]:
    from dockyard.drivers.docker import DockerDriver
    from tests.support.images import BUSYBOX, build_busybox_image

    if not DockerDriver.available() or not BUSYBOX.exists():
        pytest.skip("needs a Docker engine and busybox-static")
    import docker

    client = docker.from_env(timeout=30)
    try:
        yield build_busybox_image(client)
    finally:
        client.close()


def test_the_docker_runtime_gets_the_same_check(docker_image: str, tmp_path: Path) -> None:
    def boxed(**extra: Any) -> dict[str, Any]:
        return {"name": "box", "image": docker_image, "memory": 32, "essential": True,
                "command": ["true"], **extra}  # fmt: skip

    socket_volume = {"name": "s", "host": {"sourcePath": "/var/run/docker.sock"}}
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DOCKYARD_TASK_USER", raising=False)
        server = DockyardProcess(tmp_path / "data", "--runtime", "docker", "--allow-privileged")
        server.start()
    try:
        ecs = make_client("ecs", server.endpoint)
        cases = [
            (register(ecs, boxed(mountPoints=[{"sourceVolume": "s", "containerPath": "/d"}]),
                      volumes=[socket_volume]), "volume s: host path /var/run/docker.sock"),
            (register(ecs, boxed(), pidMode="host"), "pidMode host"),
        ]  # fmt: skip
        for taskdef, words in cases:
            error = refused(ecs.run_task, taskDefinition=taskdef)
            assert error["Code"] == "ClientException" and words in error["Message"]
        # Allowed by --allow-privileged: accepted and handed to the engine (whether the engine
        # can start a privileged container here, nested in another, is its business).
        out = ecs.run_task(taskDefinition=register(ecs, boxed(privileged=True)))
        assert out["failures"] == [] and len(out["tasks"]) == 1
        stopped(ecs, out["tasks"][0]["taskArn"])
    finally:
        server.forget_tasks()
        server.stop()
