# ruff: noqa: SIM105  (stdlib-only, import-light: no contextlib)
"""Supervisor of one process-driver container. Standard library only: run by path.

    python -I -S shim.py CONFIG_JSON STATUS_FD < ENVIRONMENT_JSON

It enters the task's network namespace, starts the command in its own session and cgroups,
timestamps every stdout/stderr line into `log` (`<epoch ms> <o|e> <line>`), and when the
command ends writes `exit` (JSON: exit_code, signal, oom). It outlives the agent that started
it; a restarted agent re-attaches through those files. STATUS_FD receives one JSON line:
{"pid": N} once the command runs, or {"error": "..."} when it could not be started.
The command's environment comes on stdin, never from a file: it holds the values of the task's
secrets. Every file the shim writes is 0600; the command itself runs with umask 022.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import resource
import selectors
import signal
import sys
import time
from typing import Any

CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
MNT_DETACH = 2
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "ppc64le": 203, "s390x": 217}
PR_SET_NO_NEW_PRIVS = 38
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_SYNCHRONOUS = 16
MS_REMOUNT = 32
MS_DIRSYNC = 128
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
TMPFS_FLAGS = {
    "ro": MS_RDONLY,
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "sync": MS_SYNCHRONOUS,
    "dirsync": MS_DIRSYNC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}


def _private(path: str, flags: int) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | flags, 0o600)


def _write_json(path: str, data: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(_private(tmp, os.O_TRUNC), "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _environ_of(pid: int) -> dict[str, str]:
    """The environment a process started with (what a health check runs with)."""
    with open(f"/proc/{pid}/environ", "rb") as f:
        raw = f.read()
    env = {}
    for entry in raw.split(b"\0"):
        name, sep, value = entry.partition(b"=")
        if sep:
            env[os.fsdecode(name)] = os.fsdecode(value)
    return env


def _tell(fd: int, data: dict[str, Any]) -> None:
    try:
        os.write(fd, (json.dumps(data) + "\n").encode())
        os.close(fd)
    except OSError:
        pass


def _setns(path: str, kind: int = CLONE_NEWNET) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, kind) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    libc = _libc()
    result = libc.mount(
        source.encode() if source is not None else None,
        target.encode(),
        fstype.encode() if fstype is not None else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    _check(result, f"mount {source or fstype or ''} on {target}")


def tmpfs_options(size_mib: int, options: list[str]) -> tuple[int, str]:
    """mount(2) flags and data for a tmpfs of `size_mib` with ECS mountOptions."""
    flags = 0
    data = [f"size={size_mib}m"]
    for option in options:
        if option in TMPFS_FLAGS:
            flags |= TMPFS_FLAGS[option]
        elif "=" in option:
            data.append(option)
    return flags, ",".join(data)


def _isolate(cfg: dict[str, Any]) -> None:
    """The container's own mount (and UTS) namespace: its volumes, tmpfs, /dev/shm, hosts and
    resolv.conf, hostname; the root read-only when asked. Nothing of it reaches the host."""
    hostname = cfg.get("hostname")
    flags = CLONE_NEWNS | (CLONE_NEWUTS if hostname else 0)
    _check(_libc().unshare(flags), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    if hostname:
        name = hostname.encode()
        _check(_libc().sethostname(name, len(name)), "sethostname")
    binds = list(cfg.get("mounts", []))
    for extra, target in (("hosts_file", "/etc/hosts"), ("resolv_file", "/etc/resolv.conf")):
        if cfg.get(extra):
            binds.append({"source": cfg[extra], "target": target, "read_only": False})
    for m in binds:
        target = m["target"]
        if not os.path.lexists(target):
            raise OSError(2, f"mount point {target} does not exist on the host")
        _mount(m["source"], target, None, MS_BIND | MS_REC)
        if m.get("read_only"):
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for t in cfg.get("tmpfs", []):
        if not os.path.isdir(t["target"]):
            raise OSError(2, f"tmpfs mount point {t['target']} is not a directory on the host")
        flags, data = tmpfs_options(t["size"], t.get("options", []))
        _mount("tmpfs", t["target"], "tmpfs", flags, data)
    if cfg.get("readonly_root"):
        _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def _mount_point(path: str, is_dir: bool) -> None:
    if os.path.lexists(path):
        return
    os.makedirs(path if is_dir else os.path.dirname(path), exist_ok=True)
    if not is_dir:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))


def _image_root(cfg: dict[str, Any], errpipe: int) -> None:
    """An image's container: its own mount, UTS, IPC and PID namespaces, the image's root
    (the shared read-only rootfs under a writable overlay, or a copy of it) with pivot_root.
    Returns in the PID namespace's first process (its PID 1); the process that called it
    stays outside, waits for that one and ends the same way."""
    root = cfg["rootfs"]
    _check(_libc().unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    hostname = cfg.get("hostname") or ""
    if hostname:
        name = hostname.encode()
        _check(_libc().sethostname(name, len(name)), "sethostname")
    new = root["merged"]
    if root["mode"] == "overlay":
        data = f"lowerdir={root['lower']},upperdir={root['upper']},workdir={root['work']}"
        _mount("overlay", new, "overlay", 0, data)
    else:
        _mount(new, new, None, MS_BIND | MS_REC)
    binds = list(cfg.get("mounts", []))
    for extra, target in (("hosts_file", "/etc/hosts"), ("resolv_file", "/etc/resolv.conf")):
        if cfg.get(extra):
            binds.append({"source": cfg[extra], "target": target, "read_only": False})
    for m in binds:
        target = new + m["target"]
        _mount_point(target, os.path.isdir(m["source"]))
        _mount(m["source"], target, None, MS_BIND | MS_REC)
        if m.get("read_only"):
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    for t in cfg.get("tmpfs", []):
        _mount_point(new + t["target"], True)
        flags, data = tmpfs_options(t["size"], t.get("options", []))
        _mount("tmpfs", new + t["target"], "tmpfs", flags, data)
    _mount_point(new + "/dev", True)
    _mount("tmpfs", new + "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k")
    for dev in ("null", "zero", "full", "random", "urandom", "tty"):
        _mount_point(f"{new}/dev/{dev}", False)
        _mount(f"/dev/{dev}", f"{new}/dev/{dev}", None, MS_BIND)
    for name, link in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                       ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):  # fmt: skip
        os.symlink(link, f"{new}/dev/{name}")
    _mount_point(new + "/dev/shm", True)
    if not any(t["target"] == "/dev/shm" for t in cfg.get("tmpfs", [])):
        _mount("tmpfs", new + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "mode=1777,size=65536k")  # fmt: skip
    pid = os.fork()
    if pid:
        os.close(errpipe)
        try:
            with open(_private(root["init_file"], os.O_TRUNC), "w") as f:
                json.dump({"pid": pid}, f)
        except OSError:
            pass
        # Signals to the container's process group reach its PID 1 directly.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT,
                    signal.SIGUSR1, signal.SIGUSR2):  # fmt: skip
            signal.signal(sig, signal.SIG_IGN)
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
        if os.WIFSIGNALED(status):
            ended = os.WTERMSIG(status)
            signal.signal(ended, signal.SIG_DFL)
            os.kill(os.getpid(), ended)
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
    # PID 1 of the container: its /proc, /sys, then its root.
    _mount_point(new + "/proc", True)
    _mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount_point(new + "/sys", True)
    try:
        _mount("sysfs", new + "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass  # no sysfs of its own here: the container goes without /sys
    os.chdir(new)
    number = SYS_PIVOT_ROOT.get(os.uname().machine)
    if number is None:
        raise OSError(38, f"pivot_root: unknown architecture {os.uname().machine}")
    _check(_libc().syscall(number, b".", b"."), "pivot_root")
    _check(_libc().umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    if cfg.get("readonly_root"):
        _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def _set_ulimits(limits: list[dict[str, Any]]) -> None:
    for u in limits:
        res = getattr(resource, "RLIMIT_" + u["name"].upper(), None)
        if res is None:
            raise OSError(22, f"unknown ulimit {u['name']}")
        resource.setrlimit(res, (u["soft"], u["hard"]))


def _child(cfg: dict[str, Any], out_w: int, err_w: int, errpipe: int) -> None:
    stage = "setup"
    argv = cfg["argv"]
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        for cg in cfg.get("cgroups", []):
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        if cfg.get("rootfs"):
            stage = "mounts"
            _image_root(cfg, errpipe)
        elif cfg.get("mount_ns"):
            stage = "mounts"
            _isolate(cfg)
        stage = "ulimits"
        _set_ulimits(cfg.get("ulimits", []))
        stage = "setup"
        gid, uid = cfg.get("gid"), cfg.get("uid")
        if gid is not None:
            groups = [gid]
            if uid is not None:
                try:
                    groups = os.getgrouplist(pwd.getpwuid(uid).pw_name, gid)
                except KeyError:
                    pass
            os.setgroups(groups)
            os.setgid(gid)
        if uid is not None:
            os.setuid(uid)
        if cfg.get("no_new_privs"):
            _check(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl no_new_privs")
        stage = "chdir"
        os.chdir(cfg.get("cwd") or "/")
        stage = "exec"
        os.umask(0o022)  # as in a Docker container; the shim's own files stay 0600
        os.execvpe(argv[0], argv, cfg["env"])
    except BaseException as exc:  # report any failure to the parent, then die
        if stage == "exec" and isinstance(exc, FileNotFoundError):
            msg = f'exec: "{argv[0]}": executable file not found in $PATH'
        elif stage == "exec" and isinstance(exc, PermissionError):
            msg = f'exec: "{argv[0]}": permission denied'
        elif stage == "chdir":
            msg = f'chdir to cwd ("{cfg.get("cwd")}") failed: {exc}'
        elif isinstance(exc, OSError) and stage in ("mounts", "ulimits"):
            msg = f"{stage}: {exc.strerror or exc}"
        else:
            msg = f"{stage}: {exc}"
        os.write(errpipe, msg.encode())
    finally:
        os._exit(127)


class _Lines:
    def __init__(self, out: Any, tag: str) -> None:
        self.out = out
        self.tag = tag
        self.buf = b""

    def feed(self, data: bytes, final: bool = False) -> None:
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        if (final and self.buf) or len(self.buf) > 16384:
            lines.append(self.buf)
            self.buf = b""
        if lines:
            ts = int(time.time() * 1000)
            for line in lines:
                text = line.decode("utf-8", "replace").replace("\r", "")
                self.out.write(f"{ts} {self.tag} {text}\n")
            self.out.flush()


def _oom_killed(memory_cgroup: str | None) -> bool:
    if not memory_cgroup:
        return False
    try:
        with open(os.path.join(memory_cgroup, "memory.oom_control")) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
    except OSError:
        pass
    return False


def _kill_rest(pgid: int, cgroups: list[str]) -> None:
    """Like a container runtime: when the main process ends, nothing of it keeps running."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
    for cg in cgroups:
        try:
            with open(os.path.join(cg, "cgroup.procs")) as f:
                for pid in f.read().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
        except OSError:
            pass


def exec_in(config: str, argv: list[str]) -> None:
    """`--exec CONFIG -- argv`: run argv as the container runs (namespace, user, env, cwd)."""
    with open(config) as f:
        cfg = json.load(f)
    if cfg.get("netns"):
        _setns(cfg["netns"])
    with open(cfg["pidfile"]) as f:
        pid = json.load(f)["pid"]
    if cfg.get("rootfs"):  # the image's PID 1, as seen from the host
        with open(cfg["rootfs"]["init_file"]) as f:
            pid = json.load(f)["pid"]
    env = _environ_of(pid)
    if cfg.get("rootfs"):
        # All opened first: once in the mount namespace, /proc is the container's.
        fds = [(os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY), kind)
               for name, kind in (("uts", CLONE_NEWUTS), ("ipc", CLONE_NEWIPC),
                                  ("mnt", CLONE_NEWNS))]  # fmt: skip
        for fd, kind in fds:
            _check(_libc().setns(fd, kind), "setns")
            os.close(fd)
    elif cfg.get("mount_ns"):  # the container's mounts and hostname: those of its main process
        _setns(f"/proc/{pid}/ns/mnt", CLONE_NEWNS)
        if cfg.get("hostname"):
            _setns(f"/proc/{pid}/ns/uts", CLONE_NEWUTS)
    gid, uid = cfg.get("gid"), cfg.get("uid")
    if gid is not None:
        os.setgroups([gid])
        os.setgid(gid)
    if uid is not None:
        os.setuid(uid)
    if cfg.get("no_new_privs"):
        _check(_libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl no_new_privs")
    os.chdir(cfg.get("cwd") or "/")
    os.umask(0o022)
    os.execvpe(argv[0], argv, env)


def main() -> int:
    if sys.argv[1] == "--exec":
        exec_in(sys.argv[2], sys.argv[4:])
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    cfg["env"] = json.loads(sys.stdin.buffer.read() or b"{}")  # fd 0 stays open, at its end
    status_fd = int(sys.argv[2])
    os.set_inheritable(status_fd, False)
    exit_path = cfg["exit"]
    try:
        if cfg.get("netns"):
            _setns(cfg["netns"])
    except OSError as exc:
        msg = f"network namespace: {exc.strerror}"
        _write_json(exit_path, {"exit_code": None, "error": msg, "oom": False})
        _tell(status_fd, {"error": msg})
        return 1

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    errpipe_r, errpipe_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        _child(cfg, out_w, err_w, errpipe_w)
    for fd in (out_w, err_w, errpipe_w):
        os.close(fd)
    failure = os.read(errpipe_r, 4096)
    os.close(errpipe_r)
    if failure:
        os.waitpid(pid, 0)
        msg = failure.decode("utf-8", "replace")
        _write_json(exit_path, {"exit_code": None, "error": msg, "oom": False})
        _tell(status_fd, {"error": msg})
        return 1
    _write_json(cfg["pidfile"], {"pid": pid})
    _tell(status_fd, {"pid": pid})

    log = open(_private(cfg["log"], os.O_APPEND), "a", encoding="utf-8")  # noqa: SIM115
    readers = {out_r: _Lines(log, "o"), err_r: _Lines(log, "e")}
    sel = selectors.DefaultSelector()
    for fd in readers:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    status: int | None = None
    while status is None:
        for key, _ in sel.select(timeout=1.0):
            fd = int(key.fd)
            if fd == wake_r:
                try:
                    os.read(wake_r, 512)
                except BlockingIOError:
                    pass
                continue
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if data:
                readers[fd].feed(data)
            else:
                sel.unregister(fd)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
    for fd, reader in readers.items():  # drain what the main process left behind
        try:
            while data := os.read(fd, 65536):
                reader.feed(data)
        except (BlockingIOError, OSError):
            pass
        reader.feed(b"", final=True)
    log.close()
    _kill_rest(pid, cfg.get("cgroups", []))
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    code = 128 + sig if sig is not None else os.WEXITSTATUS(status)
    result = {
        "exit_code": code,
        "signal": sig,
        "oom": _oom_killed(cfg.get("memory_cgroup")),
        "finished_at": time.time(),
    }
    _write_json(exit_path, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
