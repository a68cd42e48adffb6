"""The task policy: which host powers a task asks for, and which a policy grants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dockyard.core.taskpolicy import (
    Grant,
    PolicyError,
    PolicyRefusal,
    TaskPolicies,
    TaskPolicy,
    load_policies,
    parse_policies,
)
from dockyard.core.taskspec import (
    ContainerSpec,
    Device,
    NetworkMode,
    TaskSpec,
    VolumeKind,
    VolumeSpec,
)


def spec(container: dict[str, Any] | None = None, **task: Any) -> TaskSpec:
    c = ContainerSpec(name="web", image="process:/", **(container or {}))
    return TaskSpec("arn", "cluster", "fam", 1, NetworkMode.HOST, [c], **task)


BIND_ETC = {"type": "none", "o": "bind", "device": "/etc"}


def host(path: str) -> VolumeSpec:
    return VolumeSpec("data", VolumeKind.HOST, source_path=path)


@pytest.mark.parametrize(
    ("task", "grant", "words"),
    [
        (spec({"user": "root"}), Grant.ROOT_USER, "container web: user root"),
        (spec({"user": "0"}), Grant.ROOT_USER, "user 0"),
        (spec({"user": "0:0"}), Grant.ROOT_USER, "user 0:0"),
        (spec({"user": "1000:0"}), Grant.ROOT_USER, "user 1000:0"),
        (spec({"user": "1000"}), Grant.OTHER_USERS, "user 1000"),
        (spec({"user": "postgres"}), Grant.OTHER_USERS, "user postgres"),
        (spec({"user": "nobody:root"}), Grant.ROOT_USER, "user nobody:root"),
        (spec({"privileged": True}), Grant.PRIVILEGED, "container web: privileged"),
        (spec({"cap_add": ["SYS_ADMIN"]}), Grant.PRIVILEGED, "capabilities.add SYS_ADMIN"),
        (spec({"devices": [Device("/dev/sda")]}), Grant.PRIVILEGED, "devices /dev/sda"),
        (spec({"security_options": ["seccomp=unconfined"]}), Grant.PRIVILEGED, "seccomp"),
        (spec({"security_options": ["apparmor:unconfined"]}), Grant.PRIVILEGED, "apparmor"),
        (spec({"security_options": ["label:disable"]}), Grant.PRIVILEGED, "label:disable"),
        (spec(volumes=[host("/srv")]), Grant.HOST_VOLUMES, "volume data: host path /srv"),
        (spec(volumes=[host("/var/run/docker.sock")]), Grant.DOCKER_SOCKET, "docker.sock"),
        (spec(volumes=[host("/var/run")]), Grant.DOCKER_SOCKET, "host path /var/run"),
        (spec(volumes=[host("/")]), Grant.DOCKER_SOCKET, "host path /"),
        (
            spec(volumes=[VolumeSpec("data", VolumeKind.DOCKER, driver_opts=BIND_ETC)]),
            Grant.HOST_VOLUMES,
            "host path /etc",
        ),
        (spec(pid_mode="host"), Grant.HOST_PID, "pidMode host"),
        (spec(ipc_mode="host"), Grant.HOST_IPC, "ipcMode host"),
        (spec({"environment_files": ["/etc/shadow"]}), Grant.HOST_ENVIRONMENT_FILES, "shadow"),
    ],
)
def test_the_default_policy_refuses_each_host_power_naming_the_member(
    task: TaskSpec, grant: Grant, words: str
) -> None:
    with pytest.raises(PolicyRefusal) as refused:
        TaskPolicy().check(task)
    assert refused.value.grant is grant
    message = str(refused.value)
    assert words in message
    assert f"needs '{grant}'" in message
    assert "task policy (default)" in message and "docs/task-policy.md" in message
    TaskPolicy(allow=frozenset(Grant)).check(task)  # everything granted: allowed


@pytest.mark.parametrize(
    "container",
    [
        {},
        {"user": "nobody"},
        {"user": "65534:65534"},
        {"user": "nobody:nogroup"},
        {"security_options": ["no-new-privileges"]},
        {"environment_files": ["arn:aws:s3:::bucket/app.env"]},
    ],
)
def test_the_default_policy_lets_unprivileged_tasks_run(container: dict[str, Any]) -> None:
    TaskPolicy().check(spec(container, volumes=[VolumeSpec("scratch", VolumeKind.TASK)]))


def test_docker_volumes_that_do_not_bind_a_host_path_need_no_grant() -> None:
    nfs = {"type": "nfs", "o": "addr=10.0.0.2,rw", "device": ":/export"}
    for opts in (nfs, {"type": "tmpfs", "device": "tmpfs"}, {}):
        TaskPolicy().check(spec(volumes=[VolumeSpec("v", VolumeKind.DOCKER, driver_opts=opts)]))


def test_named_users_are_allowed_without_opening_every_account() -> None:
    policy = TaskPolicy(users=frozenset({"1000"}))
    policy.check(spec({"user": "1000"}))
    with pytest.raises(PolicyRefusal):
        policy.check(spec({"user": "1001"}))
    with pytest.raises(PolicyRefusal):
        TaskPolicy(users=frozenset({"root"})).check(spec({"user": "root"}))  # root: its grant


def test_host_paths_limit_where_host_volumes_may_point() -> None:
    policy = TaskPolicy(allow=frozenset({Grant.HOST_VOLUMES}), host_paths=("/srv/shared",))
    policy.check(spec(volumes=[host("/srv/shared")]))
    policy.check(spec(volumes=[host("/srv/shared/app/")]))
    for outside in ("/srv/shared-not", "/srv", "/srv/shared/../secret"):
        with pytest.raises(PolicyRefusal, match="outside the host paths"):
            policy.check(spec(volumes=[host(outside)]))


def test_the_docker_socket_needs_its_own_grant_beside_host_volumes() -> None:
    task = spec(volumes=[host("/run/docker.sock")])
    with pytest.raises(PolicyRefusal) as refused:
        TaskPolicy(allow=frozenset({Grant.HOST_VOLUMES})).check(task)
    assert refused.value.grant is Grant.DOCKER_SOCKET
    TaskPolicy(allow=frozenset({Grant.HOST_VOLUMES, Grant.DOCKER_SOCKET})).check(task)


def test_a_policy_file_gives_a_default_and_policies_per_access_key(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({
        "default": {"allow": ["hostVolumes"], "hostPaths": ["/srv"]},
        "keys": {"ADMIN": {"allow": ["*"]}, "CI": {"name": "ci", "users": ["1000"]}},
    }))  # fmt: skip
    policies = load_policies(path)
    assert policies.for_key(None).allow == {Grant.HOST_VOLUMES}
    assert policies.for_key("unknown") is policies.default
    assert policies.for_key("ADMIN").allow == frozenset(Grant)
    assert policies.for_key("ADMIN").name == "key ADMIN"
    assert policies.for_key("CI").name == "ci" and policies.for_key("CI").users == {"1000"}
    widened = policies.widened([Grant.ROOT_USER])
    assert widened.for_key(None).allow == {Grant.HOST_VOLUMES, Grant.ROOT_USER}
    assert Grant.ROOT_USER in widened.for_key("CI").allow


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ([], "JSON object"),
        ({"defaults": {}}, "unknown member defaults"),
        ({"default": {"allow": ["root"]}}, "default.allow: unknown root"),
        ({"default": {"allow": "privileged"}}, "must be a list"),
        ({"default": {"hostPaths": ["srv"]}}, "absolute"),
        ({"default": {"allowed": []}}, "unknown member allowed"),
        ({"keys": ["a"]}, "keys must map"),
        ({"keys": {"K": {"allow": ["nope"]}}}, "keys.K.allow: unknown nope"),
    ],
)
def test_a_policy_that_cannot_be_read_says_what_is_wrong(raw: Any, words: str) -> None:
    with pytest.raises(PolicyError, match=words):
        parse_policies(raw)


def test_a_missing_or_broken_policy_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nope\.json"):
        load_policies(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(PolicyError, match="not JSON"):
        load_policies(broken)


def test_no_policy_means_the_default_for_every_key() -> None:
    assert TaskPolicies().for_key("ANY").allow == frozenset()
