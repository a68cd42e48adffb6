"""The operator's task policy: which host powers a task definition may ask for.

A task whose definition asks for root, another host account, a privileged container, host
paths, the Docker socket, host namespaces or host environment files is refused at the API
(RunTask, StartTask, CreateService, UpdateService, CreateTaskSet) unless the policy of the
caller's access key grants it. The policy comes from `--task-policy FILE` (JSON) and the
`--allow-*` flags of `dockyard server`; see docs/task-policy.md.

    {"default": {"allow": ["hostVolumes"], "hostPaths": ["/srv/shared"]},
     "keys": {"AKIAADMIN": {"allow": ["*"]}}}
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from dockyard.core.taskspec import TaskSpec, VolumeKind

DOC = "docs/task-policy.md"
# Users a task may name without any grant: what an unprivileged task runs as anyway.
UNPRIVILEGED_USERS = frozenset({"nobody", "65534"})
UNPRIVILEGED_GROUPS = frozenset({"", "nobody", "nogroup", "65534"})
ROOT_NAMES = frozenset({"root", "0"})
# Engine sockets: a container that reaches one controls the host.
DOCKER_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
)


class Grant(StrEnum):
    ROOT_USER = "rootUser"  # user root, 0, or group 0
    OTHER_USERS = "otherUsers"  # any other host account than nobody
    # privileged, capabilities.add, devices, unconfined dockerSecurityOptions
    PRIVILEGED = "privileged"
    HOST_VOLUMES = "hostVolumes"  # volumes[].host.sourcePath, local bind Docker volumes
    DOCKER_SOCKET = "dockerSocket"  # a host volume that is or holds an engine socket
    HOST_PID = "hostPid"  # pidMode: host
    HOST_IPC = "hostIpc"  # ipcMode: host
    HOST_ENVIRONMENT_FILES = "hostEnvironmentFiles"  # environmentFiles read from host paths


class PolicyError(ValueError):
    """A task policy file or flag that cannot be used (the server refuses to start)."""


class PolicyRefusal(Exception):
    """A task the policy does not allow; the message names the member, the policy and the
    grant it needs."""

    def __init__(self, message: str, grant: Grant) -> None:
        super().__init__(message)
        self.grant = grant


@dataclass(frozen=True, slots=True)
class TaskPolicy:
    name: str = "default"
    allow: frozenset[Grant] = frozenset()
    users: frozenset[str] = frozenset()  # accounts allowed beyond nobody (without otherUsers)
    host_paths: tuple[str, ...] = ()  # when given, host volumes only at or under these

    def allows(self, grant: Grant) -> bool:
        return grant in self.allow

    def widened(self, grants: Iterable[Grant]) -> TaskPolicy:
        return TaskPolicy(self.name, self.allow | frozenset(grants), self.users, self.host_paths)

    def check(self, spec: TaskSpec) -> None:
        """Raise PolicyRefusal for the first member of `spec` this policy does not allow."""
        for grant, member, value in requests(spec):
            if grant is Grant.OTHER_USERS and value in self.users:
                continue
            if not self.allows(grant):
                self._refuse(grant, member)
            outside = not any(_under(value, root) for root in self.host_paths)
            if grant is Grant.HOST_VOLUMES and self.host_paths and outside:
                raise PolicyRefusal(
                    f"{member} is outside the host paths this server's task policy "
                    f"({self.name}) allows ({', '.join(self.host_paths)}); see {DOC}",
                    grant,
                )

    def _refuse(self, grant: Grant, member: str) -> None:
        raise PolicyRefusal(
            f"{member} is not allowed by this server's task policy ({self.name}): it needs "
            f"'{grant}'; see {DOC}",
            grant,
        )


def _under(path: str, root: str) -> bool:
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def _user_kind(user: str) -> Grant | None:
    name, _, group = user.partition(":")
    if name in ROOT_NAMES or group in ROOT_NAMES:
        return Grant.ROOT_USER
    if name in UNPRIVILEGED_USERS and group in UNPRIVILEGED_GROUPS:
        return None
    return Grant.OTHER_USERS


def _binds(opts: dict[str, str]) -> bool:
    """Options of Docker's `local` volume driver that bind a host path (not NFS, tmpfs, ...)."""
    bind = "bind" in opts.get("o", "").split(",") or opts.get("type") == "none"
    return bind and bool(opts.get("device"))


def _weakening(option: str) -> bool:
    """A security option that turns confinement off (apparmor/seccomp unconfined, ...);
    no-new-privileges and profiles of one's own only confine more."""
    kind, _, value = option.replace("=", ":").partition(":")
    return value == "unconfined" or (kind == "label" and value == "disable")


def _holds_socket(path: str) -> bool:
    """`path` is an engine socket or a directory above one (/, /run, /var/run, ...)."""
    return any(_under(sock, path) for sock in DOCKER_SOCKETS)


def host_paths(spec: TaskSpec) -> Iterator[tuple[str, str]]:
    """(volume name, host path) of every volume that reaches the host's file system."""
    for v in spec.volumes:
        if v.kind == VolumeKind.HOST and v.source_path:
            yield v.name, v.source_path
        elif v.kind == VolumeKind.DOCKER and v.driver == "local" and _binds(v.driver_opts):
            # `local` with type=none,o=bind,device=/path: a bind mount of a host path
            yield v.name, v.driver_opts["device"]


def requests(spec: TaskSpec) -> Iterator[tuple[Grant, str, str]]:
    """Every host power `spec` asks for: the grant, the member that asks (for the message)
    and its value (the user, the host path, ...)."""
    for c in spec.containers:
        who = f"container {c.name}:"
        kind = _user_kind(c.user) if c.user else None
        if kind is not None and c.user:
            yield kind, f"{who} user {c.user}", c.user
        if c.privileged:
            yield Grant.PRIVILEGED, f"{who} privileged", "true"
        if c.cap_add:
            added = ",".join(c.cap_add)
            yield Grant.PRIVILEGED, f"{who} linuxParameters.capabilities.add {added}", added
        for d in c.devices:
            yield Grant.PRIVILEGED, f"{who} linuxParameters.devices {d.host_path}", d.host_path
        for option in c.security_options:
            if _weakening(option):
                yield Grant.PRIVILEGED, f"{who} dockerSecurityOptions {option}", option
        for path in c.environment_files:
            if not path.startswith("arn:"):
                yield Grant.HOST_ENVIRONMENT_FILES, f"{who} environmentFiles {path}", path
    for name, path in host_paths(spec):
        if _holds_socket(path):
            yield Grant.DOCKER_SOCKET, f"volume {name}: host path {path}", path
        yield Grant.HOST_VOLUMES, f"volume {name}: host path {path}", path
    if spec.pid_mode == "host":
        yield Grant.HOST_PID, "pidMode host", "host"
    if spec.ipc_mode == "host":
        yield Grant.HOST_IPC, "ipcMode host", "host"


@dataclass(frozen=True, slots=True)
class TaskPolicies:
    """The default policy and the policies of particular access keys."""

    default: TaskPolicy = field(default_factory=TaskPolicy)
    by_key: dict[str, TaskPolicy] = field(default_factory=dict)

    def for_key(self, access_key_id: str | None) -> TaskPolicy:
        if access_key_id is not None and access_key_id in self.by_key:
            return self.by_key[access_key_id]
        return self.default

    def widened(self, grants: Iterable[Grant]) -> TaskPolicies:
        """`--allow-*` flags: what every caller may ask for, on top of the file."""
        extra = frozenset(grants)
        return TaskPolicies(
            self.default.widened(extra), {k: p.widened(extra) for k, p in self.by_key.items()}
        )


def _grants(raw: Any, where: str) -> frozenset[Grant]:
    if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
        raise PolicyError(f"{where}.allow must be a list of names")
    if "*" in raw:
        return frozenset(Grant)
    known = {g.value for g in Grant}
    unknown = [g for g in raw if g not in known]
    if unknown:
        raise PolicyError(
            f"{where}.allow: unknown {', '.join(unknown)} (known: {', '.join(sorted(known))}, *)"
        )
    return frozenset(Grant(g) for g in raw)


def _strings(raw: Any, where: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
        raise PolicyError(f"{where} must be a list of strings")
    return list(raw)


def parse_policy(raw: Any, name: str, where: str) -> TaskPolicy:
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} must be an object")
    extra = set(raw) - {"allow", "users", "hostPaths", "name"}
    if extra:
        raise PolicyError(f"{where}: unknown member {', '.join(sorted(extra))}")
    paths = _strings(raw.get("hostPaths", []), f"{where}.hostPaths")
    if any(not os.path.isabs(p) for p in paths):
        raise PolicyError(f"{where}.hostPaths must be absolute paths")
    return TaskPolicy(
        name=str(raw.get("name") or name),
        allow=_grants(raw.get("allow", []), where),
        users=frozenset(_strings(raw.get("users", []), f"{where}.users")),
        host_paths=tuple(paths),
    )


def parse_policies(raw: Any) -> TaskPolicies:
    if not isinstance(raw, dict):
        raise PolicyError("a task policy file holds a JSON object")
    extra = set(raw) - {"default", "keys"}
    if extra:
        raise PolicyError(f"unknown member {', '.join(sorted(extra))} (known: default, keys)")
    default = parse_policy(raw.get("default", {}), "default", "default")
    keys = raw.get("keys", {})
    if not isinstance(keys, dict):
        raise PolicyError("keys must map access key ids to policies")
    return TaskPolicies(
        default, {k: parse_policy(v, f"key {k}", f"keys.{k}") for k, v in keys.items()}
    )


def load_policies(path: Path) -> TaskPolicies:
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise PolicyError(f"{path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise PolicyError(f"{path}: not JSON: {exc}") from exc
    try:
        return parse_policies(raw)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
