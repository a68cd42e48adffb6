"""Task definition members beyond the basics: the spec an agent gets, the attributes a host
needs (as ECS derives requiresAttributes), and members refused at RunTask."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.taskspec import FEATURE_PREFIX, NetworkMode, VolumeKind
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.taskdefs.container_options import requirements, task_volumes, unsupported
from dockyard.services.ecs.taskdefs.domain import required_attributes
from dockyard.services.ecs.tasks.launch import container_spec


def td(containers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"family": "f", "revision": 1, "containerDefinitions": containers, **extra}


def test_volumes_become_host_task_and_docker_volumes() -> None:
    volumes = task_volumes({"volumes": [
        {"name": "h", "host": {"sourcePath": "/srv"}},
        {"name": "t"},
        {"name": "t2", "host": {}},
        {"name": "d", "dockerVolumeConfiguration": {"scope": "shared", "autoprovision": True,
                                                    "driverOpts": {"type": "tmpfs"}}},
        {"name": "e", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}},
    ]})  # fmt: skip
    assert [(v.name, v.kind) for v in volumes] == [
        ("h", VolumeKind.HOST), ("t", VolumeKind.TASK), ("t2", VolumeKind.TASK),
        ("d", VolumeKind.DOCKER),
    ]  # fmt: skip
    assert volumes[0].source_path == "/srv"
    assert volumes[3].scope == "shared" and volumes[3].autoprovision
    assert volumes[3].driver_opts == {"type": "tmpfs"}


def test_container_members_reach_the_spec() -> None:
    c = container_spec(
        {
            "name": "a", "image": "i",
            "mountPoints": [{"sourceVolume": "v", "containerPath": "/v", "readOnly": True}],
            "volumesFrom": [{"sourceContainer": "b"}],
            "ulimits": [{"name": "nofile", "softLimit": 1, "hardLimit": 2}],
            "extraHosts": [{"hostname": "db", "ipAddress": "10.0.0.1"}],
            "dnsServers": ["1.1.1.1"], "readonlyRootFilesystem": True, "hostname": "h",
            "linuxParameters": {
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD"]},
                "devices": [{"hostPath": "/dev/fuse", "permissions": ["read"]}],
                "initProcessEnabled": True, "sharedMemorySize": 64, "maxSwap": 0,
                "swappiness": 10, "tmpfs": [{"containerPath": "/t", "size": 8}],
            },
        },
        NetworkMode.BRIDGE,
    )  # fmt: skip
    assert c.mount_points[0].read_only and c.volumes_from[0].source_container == "b"
    assert c.ulimits[0].soft == 1 and c.extra_hosts == [("db", "10.0.0.1")]
    assert c.readonly_root_filesystem and c.hostname == "h" and c.dns_servers == ["1.1.1.1"]
    assert c.cap_add == ["NET_ADMIN"] and c.cap_drop == ["MKNOD"]
    assert c.devices[0].host_path == "/dev/fuse" and c.init_process_enabled
    assert c.shared_memory_size == 64 and c.max_swap == 0 and c.swappiness == 10
    assert c.tmpfs[0].container_path == "/t"


def test_required_attributes_for_volumes_as_ecs_derives_them() -> None:
    req = td([{"name": "a", "image": "i"}], volumes=[
        {"name": "d", "dockerVolumeConfiguration": {"driver": "local"}},
        {"name": "e", "efsVolumeConfiguration": {"fileSystemId": "fs-1",
                                                 "authorizationConfig": {"iam": "ENABLED"}}},
        {"name": "x", "fsxWindowsFileServerVolumeConfiguration": {"fileSystemId": "fs-2"}},
    ])  # fmt: skip
    names = required_attributes(req, "bridge")
    for name in (
        "com.amazonaws.ecs.capability.docker-remote-api.1.25",
        "ecs.capability.docker-plugin.local",
        "ecs.capability.efs",
        "ecs.capability.efsAuth",
        "ecs.capability.fsxWindowsFileServer",
    ):
        assert name in names


def test_required_attributes_for_container_members() -> None:
    names = required_attributes(td([{
        "name": "a", "image": "i", "privileged": True, "ulimits": [],
        "firelensConfiguration": {"type": "fluentbit"},
        "restartPolicy": {"enabled": True},
        "dockerSecurityOptions": ["label:type:x"],
        "repositoryCredentials": {"credentialsParameter": "arn:x"},
    }]), "bridge")  # fmt: skip
    assert "com.amazonaws.ecs.capability.privileged-container" in names
    assert "ecs.capability.firelens.fluentbit" in names
    assert "ecs.capability.container-restart-policy" in names
    assert "com.amazonaws.ecs.capability.selinux" in names
    assert "ecs.capability.private-registry-authentication.secretsmanager" in names


def test_requirements_add_dockyard_features_to_ecs_attributes() -> None:
    from dockyard.core.scope import Scope
    from dockyard.services.ecs.tasks.launch import build_spec

    doc = td([{"name": "a", "image": "i", "mountPoints": [{"sourceVolume": "v",
                                                          "containerPath": "/v"}],
               "linuxParameters": {"devices": [{"hostPath": "/dev/null"}]}}],
             volumes=[{"name": "v"}], networkMode="host")  # fmt: skip
    spec = build_spec(Scope("123456789012", "us-east-1"), "c", doc, "EC2")
    names = [r.name for r in requirements(doc, spec)]
    assert "com.amazonaws.ecs.capability.docker-remote-api.1.25" in names
    assert FEATURE_PREFIX + "mountPoints" in names
    assert FEATURE_PREFIX + "linuxParameters.devices" in names


@pytest.mark.parametrize(
    ("doc", "member"),
    [
        (td([{"name": "a"}], pidMode="task"), "pidMode"),
        (td([{"name": "a"}], ipcMode="task"), "ipcMode"),
        (td([{"name": "a", "credentialSpecs": ["credentialspec:x"]}]), "credentialSpecs"),
    ],
)
def test_members_no_driver_honours_are_refused_at_run_task(
    doc: dict[str, Any], member: str
) -> None:
    with pytest.raises(InvalidParameterException, match=member):
        unsupported(doc)
    unsupported(td([{"name": "a"}], pidMode="host", ipcMode="none"))
