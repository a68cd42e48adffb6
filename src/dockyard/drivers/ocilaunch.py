"""How the process driver starts a container of an OCI image: its command, environment,
working directory and user from the image's config and the container definition's
overrides (as Docker applies them), and the rootfs part of the shim's config."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from dockyard.core.taskspec import ContainerSpec
from dockyard.drivers.base import DriverError
from dockyard.drivers.ociimage import Image
from dockyard.drivers.procenv import DEFAULT_PATH, Launch, read_env_file, resolve_user


def _entries(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def image_user(rootfs: Path, user: str) -> tuple[int, int, str]:
    """(uid, gid, home) of `name`, `uid`, `name:group` or `uid:gid`, read from the image's
    own /etc/passwd and /etc/group (not the host's)."""
    name, _, group = user.partition(":")
    uid, gid, home = None, 0, "/"
    for entry in _entries(rootfs / "etc" / "passwd"):
        if len(entry) >= 6 and (entry[0] == name or entry[2] == name):
            uid, gid, home = int(entry[2]), int(entry[3]), entry[5] or "/"
            break
    if uid is None:
        if not name.isdigit():
            raise DriverError(
                f"CannotStartContainerError: unable to find user {name}: no matching entries "
                "in passwd file"
            )
        uid = int(name)
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            found = [e for e in _entries(rootfs / "etc" / "group") if len(e) >= 3 and e[0] == group]
            if not found:
                raise DriverError(
                    f"CannotStartContainerError: unable to find group {group}: no matching "
                    "entries in group file"
                )
            gid = int(found[0][2])
    return uid, gid, home


def launch_for_image(
    container: ContainerSpec, image: Image, hostname: str, default_user: str | None
) -> Launch:
    """`default_user`: who runs a container whose definition names no user and whose image
    names none but root (the driver's task user: without user namespaces, the image's root
    would be the host's)."""
    config = image.config
    if container.entry_point:  # as `docker run --entrypoint`: the image's Cmd goes too
        argv = [*container.entry_point, *(container.command or [])]
    else:
        argv = [*config.entrypoint, *(container.command or config.cmd)]
    if not argv:
        raise DriverError(
            "CannotStartContainerError: no command specified: neither the image nor the "
            "container definition gives one"
        )
    if container.user:
        uid, gid, home = image_user(image.rootfs, container.user)
    elif config.user and config.user.partition(":")[0] not in ("0", "root"):
        uid, gid, home = image_user(image.rootfs, config.user)
    elif default_user:
        host_uid, host_gid, _ = resolve_user(default_user)
        uid, gid, home = host_uid or 0, host_gid or 0, "/"
    else:
        uid, gid, home = 0, 0, "/root"
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": hostname, "HOME": home}
    for entry in config.env:
        key, sep, value = entry.partition("=")
        if sep:
            env[key] = value
    for path in container.environment_files:
        env.update(read_env_file(path))
    env.update(container.environment)
    cwd = container.working_directory or config.working_dir or "/"
    return Launch(argv=argv, env=env, cwd=cwd, uid=uid, gid=gid)


def overlay_available() -> bool:
    try:
        with open("/proc/filesystems") as f:
            return any(line.split()[-1] == "overlay" for line in f if line.strip())
    except OSError:
        return False


def rootfs_config(image: Image, cdir: Path, overlay: bool) -> dict[str, Any]:
    """The shim's `rootfs` key: the shared image root under a writable layer of the
    container's own (overlayfs), or a copy of the root where overlayfs is not available."""
    merged = cdir / "rootfs"
    merged.mkdir()
    os.chmod(merged, 0o755)  # explicit: the agent's umask is 077
    config: dict[str, Any] = {
        "merged": str(merged),
        "init_file": str(cdir / "init.json"),
        "image_root": str(image.rootfs),  # in use while this container's dir is there
    }
    if overlay:
        for d in ("upper", "work"):
            (cdir / d).mkdir()
            os.chmod(cdir / d, 0o755)  # the upper dir's mode is the container's / mode
        config.update(mode="overlay", lower=str(image.rootfs), upper=str(cdir / "upper"),
                      work=str(cdir / "work"))  # fmt: skip
        return config
    cp = shutil.which("cp")
    if cp is None:
        raise DriverError("CannotStartContainerError: no overlayfs and no cp to copy the image")
    subprocess.run([cp, "-a", f"{image.rootfs}/.", str(merged)], check=True)
    config["mode"] = "copy"
    return config


def etc_files(cdir: Path, hostname: str) -> dict[str, str]:
    """/etc/hosts and /etc/resolv.conf for an image's container (as Docker gives it)."""
    hosts = cdir / "image-hosts"
    hosts.write_text(f"127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\t{hostname}\n")
    os.chmod(hosts, 0o644)
    resolv = cdir / "image-resolv.conf"
    try:
        resolv.write_text(Path("/etc/resolv.conf").read_text())
    except OSError:
        resolv.write_text("")
    os.chmod(resolv, 0o644)
    return {"hosts_file": str(hosts), "resolv_file": str(resolv)}
