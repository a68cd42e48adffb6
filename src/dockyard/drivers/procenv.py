"""How the process driver turns a ContainerSpec into argv, environment, directory and user."""

from __future__ import annotations

import grp
import logging
import os
import pwd
from dataclasses import dataclass

from dockyard.core.taskspec import ContainerSpec
from dockyard.drivers.base import DriverError

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
IMAGE_PREFIX = "process:"
DEFAULT_TASK_USER = "nobody"

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: str
    uid: int | None
    gid: int | None


def image_directory(image: str) -> str | None:
    if not image.startswith(IMAGE_PREFIX):
        return None
    return image[len(IMAGE_PREFIX) :] or None


def read_env_file(path: str) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and lines starting with # are ignored (as Docker does)."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise DriverError(
            f"ResourceInitializationError: failed to read environment file {path}: {exc.strerror}"
        ) from exc
    env: dict[str, str] = {}
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise DriverError(
                f"ResourceInitializationError: invalid line in environment file {path}: {line!r}"
            )
        env[key.strip()] = value
    return env


def resolve_user(user: str | None) -> tuple[int | None, int | None, str | None]:
    """(uid, gid, home) for `name`, `uid`, `name:group` or `uid:gid`."""
    if not user:
        return None, None, None
    name, _, group = user.partition(":")
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
        uid, gid, home = entry.pw_uid, entry.pw_gid, entry.pw_dir
    except KeyError:
        if not name.isdigit():
            raise DriverError(
                f"CannotStartContainerError: unable to find user {name}: no matching entries "
                "in passwd file"
            ) from None
        uid, gid, home = int(name), 0, "/"
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                raise DriverError(
                    f"CannotStartContainerError: unable to find group {group}: no matching "
                    "entries in group file"
                ) from None
    return uid, gid, home


def task_user(wanted: str | None) -> str | None:
    """Who containers without `user` run as: as root, an unprivileged account (`wanted`, else
    $DOCKYARD_TASK_USER, else nobody, else uid/gid 65534); not root, this process's own user
    (None: no switch)."""
    wanted = wanted or os.environ.get("DOCKYARD_TASK_USER") or None
    if os.geteuid() != 0:
        if wanted:
            log.warning("--task-user %s ignored: only root can run tasks as another user", wanted)
        return None
    user = wanted or DEFAULT_TASK_USER
    try:
        resolve_user(user)
    except DriverError:
        if wanted:
            raise ValueError(f"--task-user {wanted}: no such user on this host") from None
        return "65534:65534"
    return user


def launch_for(container: ContainerSpec, hostname: str, default_user: str | None = None) -> Launch:
    """`default_user`: who a container without `user` runs as (the driver's task user)."""
    argv = [*(container.entry_point or []), *(container.command or [])]
    if not argv:
        raise DriverError(
            "CannotStartContainerError: no command specified: the process runtime needs "
            "entryPoint or command"
        )
    uid, gid, home = resolve_user(container.user or default_user)
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": hostname, "HOME": home or "/root"}
    for path in container.environment_files:
        env.update(read_env_file(path))
    env.update(container.environment)
    cwd = container.working_directory or image_directory(container.image) or "/"
    return Launch(argv=argv, env=env, cwd=cwd, uid=uid, gid=gid)
