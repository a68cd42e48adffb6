"""The process driver runs images of the registry without Docker: pulled for the host's
platform, layers unpacked with whiteouts and opaque directories, the container in its own
mount, PID, UTS and IPC namespaces on the image's root, behind an ALB."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import make_client
from tests.support.ociimages import (
    BUSYBOX,
    push_busybox,
    write_docker_archive,
    write_oci_layout,
)
from tests.support.registry import RegistryClient
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="images need root (namespaces, pivot_root)"),
    pytest.mark.skipif(not BUSYBOX.exists(), reason="busybox-static is not installed"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(tmp_path_factory.mktemp("ecr-process") / "data", "--runtime", "process")
    proc.start()
    yield proc
    proc.forget_tasks()
    proc.stop()


@pytest.fixture(scope="module")
def image(server: DockyardProcess) -> str:
    ecr = make_client("ecr", server.endpoint)
    uri: str = ecr.create_repository(repositoryName="busybox-web")["repository"]["repositoryUri"]
    client = RegistryClient(server.endpoint)
    push_busybox(client, "busybox-web", "v1", {
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": ["exec httpd -f -p 8080 -h /www"],
        "Env": ["GREETING=from-image-config", "PATH=/bin"],
        "WorkingDir": "/www",
        "User": "web",
        "ExposedPorts": {"8080/tcp": {}},
    })  # fmt: skip
    client.close()
    return f"{uri}:v1"


def test_service_on_the_process_driver_behind_an_alb(server: DockyardProcess, image: str) -> None:
    ecs = make_client("ecs", server.endpoint)
    elb = make_client("elbv2", server.endpoint)
    name = f"img-{uuid.uuid4().hex[:6]}"
    lb = elb.create_load_balancer(Name=name, Subnets=["subnet-a", "subnet-b"])["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=8080, VpcId="vpc-1", TargetType="instance",
        HealthCheckPath="/index.html", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    port = free_port()
    elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Port=port, Protocol="HTTP",
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])  # fmt: skip
    script = ("ls / > /www/root.txt; echo $$ > /www/pid.txt; ls /proc > /www/proc.txt; "
              "echo $GREETING > /www/env.txt; pwd > /www/cwd.txt; id -u > /www/uid.txt; "
              "ls /old /cache > /www/layers.txt; exec httpd -f -p 8080 -h /www")  # fmt: skip
    taskdef = ecs.register_task_definition(
        family=name,
        networkMode="bridge",
        containerDefinitions=[{
            "name": "web", "image": image, "essential": True, "memory": 64,
            "command": [script],
            "portMappings": [{"containerPort": 8080, "hostPort": 0}],
            # run inside the container: its root, its environment
            "healthCheck": {"command": ["CMD-SHELL", "test -f /www/root.txt && "
                                        "test \"$GREETING\" = from-image-config"],
                            "interval": 5, "timeout": 3, "retries": 2},
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    ecs.create_service(
        serviceName=name, taskDefinition=taskdef, desiredCount=1,
        loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 8080}],
    )  # fmt: skip

    def get(path: str) -> str:
        try:
            r = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2)
        except httpx.HTTPError:
            return ""
        return r.text if r.status_code == 200 else ""

    def failures() -> list[str]:
        arns = ecs.list_tasks(serviceName=name, desiredStatus="STOPPED")["taskArns"]
        tasks = ecs.describe_tasks(tasks=arns)["tasks"] if arns else []
        return [t.get("stoppedReason", "") for t in tasks]

    try:
        wait_for(lambda: get("/index.html") or failures(), 90, "the ALB to answer")
        assert not failures()
        assert get("/index.html").strip() == "from-the-image"
        # Only the image's filesystem...
        assert sorted(get("/root.txt").split()) == sorted(
            ["bin", "cache", "dev", "etc", "old", "proc", "sys", "www"]
        )
        # ...its own PID 1 and no host processes...
        assert get("/pid.txt").strip() == "1"
        pids = [p for p in get("/proc.txt").split() if p.isdigit()]
        assert pids and max(int(p) for p in pids) < 50
        # ...the image config (Env, WorkingDir, Entrypoint, User).
        assert get("/env.txt").strip() == "from-image-config"
        assert get("/cwd.txt").strip() == "/www"
        assert get("/uid.txt").strip() == "1000"
        # Whiteouts and opaque directories of the upper layer applied.
        assert get("/layers.txt").split() == ["/cache:", "fresh.txt", "/old:"]

        def health() -> str:
            arns = ecs.list_tasks(serviceName=name)["taskArns"]
            tasks = ecs.describe_tasks(tasks=arns)["tasks"] if arns else []
            return str(tasks[0].get("healthStatus")) if tasks else ""

        assert wait_for(lambda: health() == "HEALTHY" and health(), 60, "HEALTHY") == "HEALTHY"
    finally:
        ecs.update_service(service=name, desiredCount=0)
        ecs.delete_service(service=name, force=True)


def test_run_task_of_a_missing_image_fails_to_pull(server: DockyardProcess, image: str) -> None:
    ecs = make_client("ecs", server.endpoint)
    taskdef = ecs.register_task_definition(
        family=f"gone-{uuid.uuid4().hex[:6]}",
        containerDefinitions=[{"name": "c", "image": image.replace(":v1", ":nope"),
                               "memory": 32}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]

    def stopped() -> Any:
        t = ecs.describe_tasks(tasks=[arn])["tasks"][0]
        return t if t["lastStatus"] == "STOPPED" else None

    t = wait_for(stopped, 60, "the task to stop")
    assert "CannotPullContainerError" in str(t)


@pytest.mark.parametrize("kind", ["oci", "docker-archive"])
def test_images_from_an_oci_layout_or_a_docker_save_tarball(
    server: DockyardProcess, tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    where = tmp_path_factory.mktemp(f"images-{kind}")
    config: dict[str, object] = {"Entrypoint": ["/bin/sh", "-c"], "User": "web"}
    if kind == "oci":
        write_oci_layout(where / "layout", "v1", config)
        image = f"oci:{where / 'layout'}:v1"
    else:
        write_docker_archive(where / "image.tar", "busybox-web:v1", config)
        image = f"docker-archive:{where / 'image.tar'}:busybox-web:v1"
    ecs = make_client("ecs", server.endpoint)
    check = ("test -f /cache/fresh.txt && ! test -e /cache/stale.txt && ! test -e /old/gone.txt"
             " && test \"$(cat /www/index.html)\" = from-the-image && test $$ = 1")  # fmt: skip
    taskdef = ecs.register_task_definition(
        family=f"{kind}-{uuid.uuid4().hex[:6]}",
        containerDefinitions=[{"name": "c", "image": image, "memory": 32, "command": [check]}],
    )["taskDefinition"]  # fmt: skip
    assert {"name": "dockyard.capability.oci-images"} in taskdef["requiresAttributes"]
    arn = ecs.run_task(taskDefinition=taskdef["taskDefinitionArn"])["tasks"][0]["taskArn"]

    def stopped() -> Any:
        t = ecs.describe_tasks(tasks=[arn])["tasks"][0]
        return t if t["lastStatus"] == "STOPPED" else None

    t = wait_for(stopped, 60, "the check to finish")
    assert t["containers"][0].get("exitCode") == 0, t
