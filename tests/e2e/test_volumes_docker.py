"""Volumes and container options through the Docker driver: a bind-mounted host directory,
Docker volumes (task-scoped and shared), and ulimits / extraHosts / readonlyRootFilesystem
taking effect inside a real container."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_tasks_docker import container, wait_status
from tests.integration.conftest import make_client
from tests.support.images import build_busybox_image
from tests.support.server import DockyardProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def client() -> Any:
    docker = pytest.importorskip("docker")
    try:
        engine = docker.from_env(timeout=10)
        engine.ping()
    except Exception:
        pytest.skip("no Docker engine answers")
    if not Path("/bin/busybox").exists():
        pytest.skip("busybox-static is not installed")
    return engine


@pytest.fixture(scope="module")
def image(client: Any) -> str:
    return build_busybox_image(client)


@pytest.fixture(scope="module")
def server(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    # Host volumes are refused by default (docs/task-policy.md): this server allows them.
    proc = DockyardProcess(
        tmp_path_factory.mktemp("e2e-vol") / "data", "--runtime", "docker", "--allow-host-volumes"
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def ecs(server: DockyardProcess) -> Any:
    return make_client("ecs", server.endpoint)


def run_to_end(ecs: Any, volumes: list[dict[str, Any]], *containers: dict[str, Any]) -> Any:
    taskdef = ecs.register_task_definition(
        family=f"e2e-vol-{uuid.uuid4().hex[:8]}",
        containerDefinitions=list(containers),
        volumes=volumes,
    )["taskDefinition"]["taskDefinitionArn"]
    out = ecs.run_task(taskDefinition=taskdef)
    assert not out["failures"], out["failures"]
    arn = out["tasks"][0]["taskArn"]
    return wait_status(ecs, [arn], "STOPPED", 60.0)[0]


def codes(task: dict[str, Any]) -> dict[str, int | None]:
    return {c["name"]: c.get("exitCode") for c in task["containers"]}


def test_a_bind_mount_and_a_read_only_one(ecs: Any, image: str, tmp_path: Path) -> None:
    host = tmp_path / "bind"
    host.mkdir()
    (host / "seed").write_text("seeded")
    script = (
        "cat /data/seed > /data/copy && "
        "if echo x > /ro/nope; then exit 3; fi; cat /ro/seed > /data/from-ro"
    )
    task = run_to_end(
        ecs,
        [{"name": "data", "host": {"sourcePath": str(host)}}],
        container(image, "app", script, mountPoints=[
            {"sourceVolume": "data", "containerPath": "/data"},
            {"sourceVolume": "data", "containerPath": "/ro", "readOnly": True},
        ]),
    )  # fmt: skip
    assert codes(task) == {"app": 0}
    assert (host / "copy").read_text() == "seeded"
    assert (host / "from-ro").read_text() == "seeded"
    assert not (host / "nope").exists()


def test_docker_volumes_task_scoped_and_shared(
    ecs: Any, image: str, client: Any, tmp_path: Path
) -> None:
    shared = f"dockyard-e2e-{uuid.uuid4().hex[:8]}"
    host = tmp_path / "report"
    host.mkdir()
    report = {"sourceVolume": "report", "containerPath": "/report"}
    volumes: list[dict[str, Any]] = [
        {"name": "report", "host": {"sourcePath": str(host)}},
        {"name": "scratch"},
        {
            "name": shared,
            "dockerVolumeConfiguration": {
                "scope": "shared", "autoprovision": True, "driver": "local",
                "labels": {"purpose": "e2e"},
            },
        },
    ]  # fmt: skip
    writer = container(image, "writer",
        "echo hi > /scratch/msg; echo kept > /keep/msg; "
        "for i in $(seq 100); do [ -f /report/done ] && exit 0; sleep 0.1; done; exit 9",
        mountPoints=[{"sourceVolume": "scratch", "containerPath": "/scratch"},
                     {"sourceVolume": shared, "containerPath": "/keep"}, report])  # fmt: skip
    reader = container(image, "reader",
        "for i in $(seq 100); do [ -f /scratch/msg ] && break; sleep 0.1; done; "
        "cat /scratch/msg > /report/scratch; "
        "if echo x > /keep/nope; then echo rw; else echo ro; fi > /report/keep-mode; "
        "touch /report/done",
        essential=False, mountPoints=[report],
        volumesFrom=[{"sourceContainer": "writer", "readOnly": True}])  # fmt: skip
    task = run_to_end(ecs, volumes, writer, reader)
    assert codes(task)["writer"] == 0, task
    assert (host / "scratch").read_text() == "hi\n"
    assert (host / "keep-mode").read_text() == "ro\n"
    try:
        kept = client.volumes.get(shared)  # shared: outlives the task
        assert kept.attrs["Labels"]["purpose"] == "e2e"
        task_volumes = client.volumes.list(
            filters={"label": f"com.amazonaws.ecs.task-arn={task['taskArn']}"}
        )
        assert task_volumes == []  # task-scoped: removed with the task
    finally:
        client.volumes.get(shared).remove(force=True)


def test_ulimits_extra_hosts_and_a_read_only_root(ecs: Any, image: str, tmp_path: Path) -> None:
    host = tmp_path / "facts"
    host.mkdir()
    script = (
        "ulimit -n > /out/nofile; grep db.internal /etc/hosts > /out/hosts; "
        "if touch /rootfile; then echo rw; else echo ro; fi > /out/root; "
        "echo ok > /scratch/x && cat /scratch/x > /out/tmpfs; hostname > /out/hostname"
    )
    task = run_to_end(
        ecs,
        [{"name": "out", "host": {"sourcePath": str(host)}}],
        container(
            image, "app", script,
            mountPoints=[{"sourceVolume": "out", "containerPath": "/out"}],
            ulimits=[{"name": "nofile", "softLimit": 321, "hardLimit": 654}],
            extraHosts=[{"hostname": "db.internal", "ipAddress": "10.9.8.7"}],
            readonlyRootFilesystem=True,
            hostname="e2e-box",
            linuxParameters={"tmpfs": [{"containerPath": "/scratch", "size": 8}]},
        ),
    )  # fmt: skip
    assert codes(task) == {"app": 0}
    assert (host / "nofile").read_text().strip() == "321"
    assert (host / "hosts").read_text().split() == ["10.9.8.7", "db.internal"]
    assert (host / "root").read_text() == "ro\n"
    assert (host / "tmpfs").read_text() == "ok\n"
    assert (host / "hostname").read_text() == "e2e-box\n"
