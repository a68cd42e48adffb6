"""Volumes and mount points through the process driver: host directories, read-only mounts,
task-scoped scratch volumes shared by mountPoints and volumesFrom, and task definitions that
need a capability this host does not have."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.drivers.hostnet import key_of
from tests.integration.conftest import make_client
from tests.integration.test_tasks_process import wait_status
from tests.support.server import DockyardProcess

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces need root")
# Host volumes and devices are refused by default (docs/task-policy.md): these servers
# allow them.
ALLOW = ("--runtime", "process", "--allow-host-volumes", "--allow-privileged")


@pytest.fixture(scope="module")
def dockyard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    server = DockyardProcess(tmp_path_factory.mktemp("volumes") / "data", *ALLOW).start()
    yield server
    server.forget_tasks()
    server.stop()


@pytest.fixture
def ecs(dockyard: DockyardProcess) -> Any:
    return make_client("ecs", dockyard.endpoint)


def sh(name: str, script: str, mounts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": "process:/",
        "memory": 64,
        "entryPoint": ["/bin/sh", "-c"],
        "command": [script],
        "mountPoints": mounts,
        **extra,
    }


def register(ecs: Any, containers: list[dict[str, Any]], volumes: list[dict[str, Any]]) -> str:
    arn: str = ecs.register_task_definition(
        family=f"vol-{uuid.uuid4().hex[:8]}", containerDefinitions=containers, volumes=volumes
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def run_to_end(ecs: Any, taskdef: str, timeout: float = 20.0) -> dict[str, Any]:
    out = ecs.run_task(taskDefinition=taskdef)
    assert not out["failures"], out["failures"]
    return wait_status(ecs, [out["tasks"][0]["taskArn"]], "STOPPED", timeout)[0]


def scratch_dir(server: DockyardProcess, task_arn: str, volume: str) -> Path:
    """Where the process driver keeps a task volume without `host` (under its data dir)."""
    roots = list(server.data_dir.glob("**/process/volumes"))
    assert len(roots) == 1, roots
    return roots[0] / key_of(task_arn) / volume


def exit_codes(task: dict[str, Any]) -> dict[str, int | None]:
    return {c["name"]: c.get("exitCode") for c in task["containers"]}


def test_a_host_directory_is_mounted_where_the_container_expects_it(
    ecs: Any, tmp_path: Path
) -> None:
    host, inside = tmp_path / "host-data", tmp_path / "inside"
    host.mkdir()
    inside.mkdir()
    taskdef = register(
        ecs,
        [sh("app", f"echo hello > {inside}/out.txt", [{"sourceVolume": "data",
                                                       "containerPath": str(inside)}])],
        [{"name": "data", "host": {"sourcePath": str(host)}}],
    )  # fmt: skip
    task = run_to_end(ecs, taskdef)
    assert exit_codes(task) == {"app": 0}
    assert (host / "out.txt").read_text() == "hello\n"
    assert not (inside / "out.txt").exists()  # written through the mount, not beside it


def test_a_read_only_mount_refuses_writes(ecs: Any, tmp_path: Path) -> None:
    host, inside = tmp_path / "ro-host", tmp_path / "ro-inside"
    host.mkdir()
    inside.mkdir()
    (host / "seed").write_text("seeded")
    script = f"cat {inside}/seed || exit 4; echo x > {inside}/new && exit 0; exit 3"
    mount = {"sourceVolume": "data", "containerPath": str(inside), "readOnly": True}
    taskdef = register(
        ecs, [sh("app", script, [mount])], [{"name": "data", "host": {"sourcePath": str(host)}}]
    )
    task = run_to_end(ecs, taskdef)
    assert exit_codes(task) == {"app": 3}
    assert not (host / "new").exists()


def test_a_task_volume_is_shared_by_mount_points_and_volumes_from_then_removed(
    dockyard: DockyardProcess, ecs: Any, tmp_path: Path
) -> None:
    out, c1, c2, c3 = (tmp_path / n for n in ("out", "c1", "c2", "c3"))
    for d in (out, c1, c2, c3):
        d.mkdir()
    report = {"sourceVolume": "out", "containerPath": str(c3)}
    writer = sh(
        "writer",
        f"echo shared > {c1}/msg; "
        f"for i in $(seq 2400); do [ -f {c3}/reader.txt ] && [ -f {c3}/from-w.txt ] && exit 0; "
        "sleep 0.05; done; exit 9",
        [{"sourceVolume": "scratch", "containerPath": str(c1)}, report],
    )
    reader = sh(
        "reader",
        f"for i in $(seq 2000); do [ -s {c2}/msg ] && break; sleep 0.05; done; "
        f"cat {c2}/msg > {c3}/reader.txt.part && mv {c3}/reader.txt.part {c3}/reader.txt",
        [{"sourceVolume": "scratch", "containerPath": str(c2)}, report],
        essential=False,
    )
    taker = sh(
        "taker",
        f"for i in $(seq 2000); do [ -s {c1}/msg ] && break; sleep 0.05; done; "
        f"cat {c1}/msg > {c3}/from.txt; "
        f"if echo x > {c1}/nope; then echo rw; else echo ro; fi > {c3}/w.part; "
        f"mv {c3}/w.part {c3}/from-w.txt",
        [report],
        essential=False,
        volumesFrom=[{"sourceContainer": "writer", "readOnly": True}],
    )
    taskdef = register(
        ecs,
        [writer, reader, taker],
        [{"name": "scratch"}, {"name": "out", "host": {"sourcePath": str(out)}}],
    )
    started = ecs.run_task(taskDefinition=taskdef)["tasks"][0]
    wait_status(ecs, [started["taskArn"]], "RUNNING", 60.0)
    scratch = scratch_dir(dockyard, started["taskArn"], "scratch")
    assert scratch.is_dir()
    task = wait_status(ecs, [started["taskArn"]], "STOPPED", 180.0)[0]
    assert exit_codes(task)["writer"] == 0
    assert (out / "reader.txt").read_text() == "shared\n"
    assert (out / "from.txt").read_text() == "shared\n"
    assert (out / "from-w.txt").read_text() == "ro\n"
    assert not list(c1.iterdir()) and not list(c2.iterdir())  # nothing leaked to the host
    deadline = time.monotonic() + 5
    while scratch.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not scratch.exists()


def test_a_restarted_server_keeps_running_tasks_volumes(
    fresh_server: Callable[..., DockyardProcess], tmp_path: Path
) -> None:
    server = fresh_server(*ALLOW)
    ecs = make_client("ecs", server.endpoint)
    inside, out = tmp_path / "inside", tmp_path / "out"
    inside.mkdir()
    out.mkdir()
    script = (
        f"while true; do date +%s%N > {inside}/tick; cp {inside}/tick {out}/tick; sleep 0.05; done"
    )
    container = sh("app", script, [{"sourceVolume": "s", "containerPath": str(inside)},
                                   {"sourceVolume": "o", "containerPath": str(out)}])  # fmt: skip
    taskdef = register(
        ecs, [container], [{"name": "s"}, {"name": "o", "host": {"sourcePath": str(out)}}]
    )
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    wait_status(ecs, [arn], "RUNNING")
    scratch = scratch_dir(server, arn, "s")
    server.kill()
    again = fresh_server(*ALLOW, data_dir=server.data_dir)
    ecs = make_client("ecs", again.endpoint)
    assert wait_status(ecs, [arn], "RUNNING")[0]["taskArn"] == arn
    before = (out / "tick").read_text()
    deadline = time.monotonic() + 5
    while (out / "tick").read_text() == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (out / "tick").read_text() != before  # still writing through both mounts
    assert (scratch / "tick").exists()
    ecs.stop_task(task=arn)
    wait_status(ecs, [arn], "STOPPED", 20.0)
    deadline = time.monotonic() + 5
    while scratch.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not scratch.exists() and not scratch.parent.exists()


def test_a_missing_container_path_stops_the_task_with_the_reason(ecs: Any, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    taskdef = register(
        ecs,
        [sh("app", "true", [{"sourceVolume": "s", "containerPath": str(missing)}])],
        [{"name": "s"}],
    )
    task = run_to_end(ecs, taskdef)
    reason = task["containers"][0].get("reason", "")
    assert "CannotStartContainerError" in reason and str(missing) in reason
    assert not missing.exists()


@pytest.mark.parametrize(
    ("volume", "container_extra", "attribute"),
    [
        (
            {"name": "v", "dockerVolumeConfiguration": {"scope": "task", "driver": "local"}},
            {},
            "ecs.capability.docker-plugin.local",
        ),
        (
            {"name": "v", "efsVolumeConfiguration": {"fileSystemId": "fs-12345678"}},
            {},
            "ecs.capability.efs",
        ),
        (
            {"name": "v"},
            {"linuxParameters": {"devices": [{"hostPath": "/dev/null"}]}},
            "dockyard.capability.linuxParameters.devices",
        ),
    ],
)
def test_a_task_needing_a_capability_the_process_driver_lacks_is_not_placed(
    ecs: Any, volume: dict[str, Any], container_extra: dict[str, Any], attribute: str
) -> None:
    container = sh("app", "true", [{"sourceVolume": "v", "containerPath": "/tmp"}],
                   **container_extra)  # fmt: skip
    taskdef = register(ecs, [container], [volume])
    described = ecs.describe_task_definition(taskDefinition=taskdef)["taskDefinition"]
    if not attribute.startswith("dockyard."):
        assert {"name": attribute} in described["requiresAttributes"]
    out = ecs.run_task(taskDefinition=taskdef)
    assert out["tasks"] == []
    assert [f["reason"] for f in out["failures"]] == ["ATTRIBUTE"]
    assert out["failures"][0]["detail"] == f"missing attribute {attribute}"


def test_ulimits_and_hostname_apply_to_the_process(ecs: Any, tmp_path: Path) -> None:
    host = tmp_path / "facts"
    host.mkdir()
    container = sh(
        "app",
        f"ulimit -n > {host}/nofile; hostname > {host}/hostname",
        [{"sourceVolume": "out", "containerPath": str(host)}],
        ulimits=[{"name": "nofile", "softLimit": 321, "hardLimit": 654}],
        hostname="inside-task",
        extraHosts=[{"hostname": "db.internal", "ipAddress": "10.9.8.7"}],
    )
    container["command"][0] += f"; grep db.internal /etc/hosts > {host}/hosts"
    taskdef = register(ecs, [container], [{"name": "out", "host": {"sourcePath": str(host)}}])
    task = run_to_end(ecs, taskdef)
    assert exit_codes(task) == {"app": 0}
    assert (host / "nofile").read_text().strip() == "321"
    assert (host / "hostname").read_text().strip() == "inside-task"
    assert (host / "hosts").read_text().split() == ["10.9.8.7", "db.internal"]
    assert "db.internal" not in Path("/etc/hosts").read_text()
