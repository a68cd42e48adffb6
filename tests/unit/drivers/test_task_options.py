"""How the drivers turn volumes and container options into what they run: the process
shim's mount plan, the Docker create() arguments, and what each driver advertises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dockyard.core.taskspec import (
    FEATURE_PREFIX,
    FEATURES,
    ContainerSpec,
    MountPoint,
    NetworkMode,
    TaskSpec,
    Tmpfs,
    Ulimit,
    VolumeFrom,
    VolumeKind,
    VolumeSpec,
    features,
)
from dockyard.drivers import docker_options, procmounts
from dockyard.drivers.base import DriverError
from dockyard.drivers.shim import MS_NOEXEC, MS_NOSUID, MS_RDONLY, tmpfs_options

ARN = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123"


def task(*containers: ContainerSpec, volumes: list[VolumeSpec] | None = None) -> TaskSpec:
    return TaskSpec(ARN, "c", "fam", 3, NetworkMode.BRIDGE, list(containers),
                    volumes=volumes or [])  # fmt: skip


def shared_task() -> TaskSpec:
    mounts = [MountPoint("s", "/data"), MountPoint("h", "/host", True)]
    writer = ContainerSpec("writer", "img", mount_points=mounts)
    taker = ContainerSpec("taker", "img", mount_points=[MountPoint("h", "/host")],
                          volumes_from=[VolumeFrom("writer", read_only=True)])  # fmt: skip
    volumes = [VolumeSpec("s", VolumeKind.TASK), VolumeSpec("h", VolumeKind.HOST, "/srv/h")]
    return task(writer, taker, volumes=volumes)


def test_volumes_from_adds_the_source_mounts_read_only_without_shadowing_own_ones() -> None:
    spec = shared_task()
    assert spec.mounts_of(spec.containers[1]) == [
        MountPoint("h", "/host", False),
        MountPoint("s", "/data", True),
    ]


def test_volumes_from_cycles_end() -> None:
    a = ContainerSpec(
        "a", "i", mount_points=[MountPoint("v", "/a")], volumes_from=[VolumeFrom("b")]
    )
    b = ContainerSpec(
        "b", "i", mount_points=[MountPoint("v", "/b")], volumes_from=[VolumeFrom("a")]
    )
    spec = task(a, b, volumes=[VolumeSpec("v", VolumeKind.TASK)])
    assert [m.container_path for m in spec.mounts_of(a)] == ["/a", "/b"]


def test_the_spec_round_trips_with_volumes_and_options() -> None:
    spec = shared_task()
    spec.containers[0].ulimits = [Ulimit("nofile", 1, 2)]
    spec.containers[0].tmpfs = [Tmpfs("/t", 8, ["noexec"])]
    spec.containers[0].extra_hosts = [("db", "10.0.0.1")]
    assert TaskSpec.from_dict(spec.to_dict()) == spec


def test_features_name_what_the_task_uses() -> None:
    c = ContainerSpec("a", "i", ulimits=[Ulimit("nofile", 1, 2)], readonly_root_filesystem=True,
                      cap_drop=["NET_RAW"])  # fmt: skip
    assert features(task(c)) == [
        "ulimits", "readonlyRootFilesystem", "linuxParameters.capabilities"
    ]  # fmt: skip
    assert features(task(ContainerSpec("a", "i"))) == []


def test_tmpfs_mount_options_become_flags_and_data() -> None:
    flags, data = tmpfs_options(64, ["noexec", "nosuid", "ro", "mode=1777", "defaults"])
    assert flags == MS_NOEXEC | MS_NOSUID | MS_RDONLY
    assert data == "size=64m,mode=1777"


def test_the_process_mount_plan(tmp_path: Path) -> None:
    spec = shared_task()
    spec.volumes[1].source_path = str(tmp_path / "made-like-docker-does")
    taker = spec.containers[1]
    taker.shared_memory_size = 16
    taker.extra_hosts = [("db.internal", "10.9.8.7")]
    cfg = procmounts.config(tmp_path / "vols", spec, taker, tmp_path, mount_ns=True)
    scratch = tmp_path / "vols" / procmounts.task_dir(Path(), ARN).name / "s"
    assert cfg["mounts"] == [
        {"source": spec.volumes[1].source_path, "target": "/host", "read_only": False},
        {"source": str(scratch), "target": "/data", "read_only": True},
    ]
    assert Path(spec.volumes[1].source_path).is_dir()
    assert cfg["tmpfs"] == [{"target": "/dev/shm", "size": 16, "options": []}]
    assert "10.9.8.7\tdb.internal" in Path(cfg["hosts_file"]).read_text()
    assert cfg["mount_ns"] is True and cfg["readonly_root"] is False


def test_without_namespaces_the_process_driver_refuses_mounts(tmp_path: Path) -> None:
    spec = shared_task()
    with pytest.raises(DriverError, match="mount namespaces"):
        procmounts.config(tmp_path, spec, spec.containers[0], tmp_path, mount_ns=False)
    plain = ContainerSpec("p", "i", ulimits=[Ulimit("nofile", 5, 6)])
    cfg = procmounts.config(tmp_path, task(plain), plain, tmp_path, mount_ns=False)
    assert cfg == {"ulimits": [{"name": "nofile", "soft": 5, "hard": 6}]}


def test_the_process_driver_cannot_mount_docker_volumes(tmp_path: Path) -> None:
    c = ContainerSpec("a", "i", mount_points=[MountPoint("d", "/x")])
    spec = task(c, volumes=[VolumeSpec("d", VolumeKind.DOCKER)])
    with pytest.raises(DriverError, match="dockerVolumeConfiguration"):
        procmounts.config(tmp_path, spec, c, tmp_path, mount_ns=True)


def test_process_features_depend_on_namespaces() -> None:
    assert procmounts.features(False) == ("ulimits",)
    assert "mountPoints" in procmounts.features(True)
    assert set(procmounts.features(True)) <= set(FEATURES)
    assert "linuxParameters.devices" not in procmounts.features(True)


def test_docker_binds_and_options() -> None:
    spec = shared_task()
    spec.volumes.append(VolumeSpec("keep", VolumeKind.DOCKER, scope="shared"))
    c = spec.containers[1]
    c.mount_points.append(MountPoint("keep", "/keep"))
    c.ulimits = [Ulimit("nofile", 10, 20)]
    c.tmpfs = [Tmpfs("/run", 4, ["noexec"])]
    c.max_swap = 0
    c.extra_hosts = [("db", "10.0.0.1")]
    kw: dict[str, Any] = docker_options.options(None, spec, c, memory=128)
    assert kw["volumes"] == [
        "/srv/h:/host",
        "keep:/keep",
        "ecs-fam-3-s-0123456789ab:/data:ro",
    ]
    assert kw["ulimits"][0]["Name"] == "nofile" and kw["ulimits"][0]["Soft"] == 10
    assert kw["tmpfs"] == {"/run": "size=4m,noexec"}
    assert kw["memswap_limit"] == "128m"
    assert kw["extra_hosts"] == ["db:10.0.0.1"]
    with pytest.raises(DriverError, match="maxSwap"):
        docker_options.options(None, spec, c, memory=None)


def test_each_driver_advertises_what_it_honours() -> None:
    from dockyard.drivers.attributes import ecs_attributes

    process = ecs_attributes("process", [NetworkMode.HOST], False, procmounts.features(False))
    assert FEATURE_PREFIX + "ulimits" in process
    assert FEATURE_PREFIX + "mountPoints" not in process
    assert "ecs.capability.docker-plugin.local" not in process
    assert "ecs.capability.efs" not in process
    assert "com.amazonaws.ecs.capability.task-iam-role" in process  # recorded, grants nothing
