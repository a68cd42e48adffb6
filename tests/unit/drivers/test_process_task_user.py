"""The process driver as root drops containers without `user` to an unprivileged account,
after their namespaces, cgroups and mounts are set up, and hands them their scratch volumes."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import pytest

from dockyard.core.taskspec import (
    ContainerSpec,
    MountPoint,
    TaskSpec,
    VolumeKind,
    VolumeSpec,
)
from dockyard.drivers import procmounts
from dockyard.drivers.procenv import task_user
from dockyard.drivers.process import ProcessDriver
from tests.unit.drivers.test_process_driver import lines, spec_of

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch users")


def sh(script: str, **extra: object) -> ContainerSpec:
    return ContainerSpec("c", "process:/", entry_point=["/bin/sh", "-c"], command=[script],
                         **extra)  # type: ignore[arg-type]  # fmt: skip


def run_one(data_dir: Path, spec: TaskSpec, user: str | None = None) -> list[str]:
    async def main() -> list[str]:
        driver = ProcessDriver(data_dir, task_user_name=user)
        try:
            network = await driver.prepare_task(spec)
            started = await driver.start_container(spec, spec.containers[0], network)
            assert (await driver.wait(started.runtime_id)).exit_code == 0
            out = await lines(driver.logs(started.runtime_id))
            await driver.cleanup_task(spec.task_arn)
            return out
        finally:
            await driver.close()

    return asyncio.run(main())


@root_only
def test_a_container_without_user_runs_as_nobody_and_cannot_regain_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKYARD_TASK_USER", raising=False)
    out = run_one(tmp_path, spec_of(sh("id -u; id -G; grep NoNewPrivs /proc/self/status")))
    assert out[0] == "65534"
    assert "0" not in out[1].split()
    assert out[2].split() == ["NoNewPrivs:", "1"]


@root_only
def test_a_named_task_user_and_a_container_user_are_honoured(tmp_path: Path) -> None:
    assert run_one(tmp_path, spec_of(sh("id -u")), user="daemon") == ["1"]
    assert run_one(tmp_path, spec_of(sh("id -u", user="0")), user="daemon") == ["0"]


@root_only
@pytest.mark.skipif(not procmounts.available(), reason="needs mount namespaces")
def test_the_task_user_writes_its_scratch_volume(tmp_path: Path) -> None:
    # The mount point must be reachable by nobody: not under root's 0700 tmp_path.
    with tempfile.TemporaryDirectory() as where:
        os.chmod(where, 0o755)
        inside = Path(where) / "inside"
        inside.mkdir()
        spec = spec_of(sh(f"echo hi > {inside}/f && cat {inside}/f && stat -c %U {inside}"))
        spec.volumes = [VolumeSpec("v", VolumeKind.TASK)]
        spec.containers[0].mount_points = [MountPoint("v", str(inside))]
        assert run_one(tmp_path, spec, user="nobody") == ["hi", "nobody"]
        assert not (inside / "f").exists()  # written to the volume, not the host dir


def test_the_task_user_is_nobody_as_root_and_nobody_to_switch_to_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DOCKYARD_TASK_USER", raising=False)
    if os.geteuid() == 0:
        assert task_user(None) == "nobody"
        assert task_user("daemon") == "daemon"
        monkeypatch.setenv("DOCKYARD_TASK_USER", "root")
        assert task_user(None) == "root"
        with pytest.raises(ValueError, match="no such user"):
            task_user("no-such-account-here")
    else:
        assert task_user(None) is None


@root_only
def test_a_named_user_cannot_regain_root_through_setuid_programs(tmp_path: Path) -> None:
    out = run_one(tmp_path, spec_of(sh("grep NoNewPrivs /proc/self/status", user="daemon")))
    assert out[0].split() == ["NoNewPrivs:", "1"]
    out = run_one(tmp_path, spec_of(sh("grep NoNewPrivs /proc/self/status", user="root")))
    assert out[0].split() == ["NoNewPrivs:", "0"]  # root allowed by policy: nothing to regain
