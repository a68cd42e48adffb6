"""`--runtime auto` on a host with a Docker engine (what `make run` starts): an image runs as
a Docker container and a `process:` task as a host process, side by side on one agent."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from tests.e2e.test_tasks_docker import container, register, wait_status
from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess


@pytest.fixture(scope="module")
def auto_server(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(tmp_path_factory.mktemp("auto") / "data").start()  # no --runtime
    yield proc
    proc.forget_tasks()
    proc.stop()


def test_images_run_in_docker_and_process_tasks_as_processes(
    auto_server: DockyardProcess, image: str, docker_client: Any
) -> None:
    ecs = make_client("ecs", auto_server.endpoint)
    in_docker = register(ecs, "bridge", container(image, "box", "sleep 300"))
    as_process = ecs.register_task_definition(
        family="auto-process",
        networkMode="host",
        containerDefinitions=[
            {"name": "proc", "image": "process:/", "memory": 64, "command": ["sleep", "301"]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    docker_arn = ecs.run_task(taskDefinition=in_docker)["tasks"][0]["taskArn"]
    process_arn = ecs.run_task(taskDefinition=as_process)["tasks"][0]["taskArn"]
    docker_task, process_task = (
        wait_status(ecs, [docker_arn], "RUNNING")[0],
        wait_status(ecs, [process_arn], "RUNNING")[0],
    )

    # The image's task is a Docker container, labelled with its task ARN as ECS does.
    runtime_id = docker_task["containers"][0]["runtimeId"]
    found = docker_client.containers.get(runtime_id)  # type: ignore[attr-defined]
    assert found.status == "running"
    assert found.labels["com.amazonaws.ecs.task-arn"] == docker_arn

    # The process task is a process on this host, not a container.
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(process_task["containers"][0]["runtimeId"])  # type: ignore[attr-defined]
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert any(line.strip() == "sleep 301" for line in ps.stdout.splitlines())

    ecs.stop_task(task=docker_arn)
    ecs.stop_task(task=process_arn)
    wait_status(ecs, [docker_arn, process_arn], "STOPPED", timeout=60.0)
