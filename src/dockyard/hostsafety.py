"""The server's host safety options: who may reach its API (the open-API refusal) and what
tasks may ask of a host (the task policy's file and flags, the process tasks' user).
See docs/task-policy.md."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
from pathlib import Path

from dockyard.core.taskpolicy import Grant, PolicyError, TaskPolicies, load_policies

log = logging.getLogger(__name__)

OPEN_API_WARNING = (
    "THE API ON %s:%d ACCEPTS UNAUTHENTICATED CALLS FROM THE NETWORK (--insecure-open-api): "
    "anyone who reaches it runs tasks on this host and its agents. Give --auth-file."
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or wildcard: reachable from elsewhere


def open_api_refusal(host: str, authenticated: bool, insecure: bool) -> str | None:
    """Why the server must not start: an API that anyone on the network may call runs their
    tasks on this host. Only the API host counts (the agent endpoint and DNS share it); load
    balancer listeners (--lb-host) carry the tasks' own traffic, not control."""
    if is_loopback(host) or authenticated or insecure:
        return None
    return (
        f"--host {host} serves the API beyond this machine without --auth-file: anyone who "
        "reaches it could run tasks here. Give --auth-file FILE (see docs/task-policy.md), "
        "or --insecure-open-api to accept that"
    )


def warn_if_open(host: str, port: int, authenticated: bool) -> None:
    if not is_loopback(host) and not authenticated:
        for _ in range(3):  # hard to miss in a scrolling log
            log.warning(OPEN_API_WARNING, host, port)


# `--allow-*` flags of `dockyard server`: grants of the task policy for every caller.
ALLOW_FLAGS = {
    "allow_root_tasks": ("rootUser",),
    "allow_task_users": ("otherUsers",),
    "allow_privileged": ("privileged",),
    "allow_host_volumes": ("hostVolumes",),
    "allow_docker_socket": ("dockerSocket",),
    "allow_host_namespaces": ("hostPid", "hostIpc"),
    "allow_host_env_files": ("hostEnvironmentFiles",),
}


def add_policy_arguments(server: argparse.ArgumentParser) -> None:
    """Who may reach the API and what tasks may ask of a host (docs/task-policy.md)."""
    group = server.add_argument_group("task policy (docs/task-policy.md)")
    group.add_argument(
        "--task-policy", type=Path, metavar="FILE",
        help="JSON task policy: what tasks may ask of a host, with a default and per "
        "access key policies (keys need --auth-file)",
    )  # fmt: skip
    group.add_argument("--allow-root-tasks", action="store_true",
                       help="let task definitions run containers as user root (0)")  # fmt: skip
    group.add_argument("--allow-task-users", action="store_true",
                       help="let task definitions name other host accounts as user")  # fmt: skip
    group.add_argument("--allow-privileged", action="store_true",
                       help="let tasks be privileged, add capabilities, map devices")  # fmt: skip
    group.add_argument("--allow-host-volumes", action="store_true",
                       help="let tasks mount host paths (volumes[].host.sourcePath)")  # fmt: skip
    group.add_argument("--allow-docker-socket", action="store_true",
                       help="let host volumes reach the Docker/containerd socket")  # fmt: skip
    group.add_argument("--allow-host-namespaces", action="store_true",
                       help="let tasks use pidMode/ipcMode host")  # fmt: skip
    group.add_argument("--allow-host-env-files", action="store_true",
                       help="let environmentFiles name files on the agent's host")  # fmt: skip
    group.add_argument(
        "--task-user", metavar="USER",
        help="process runtime as root: who containers without `user` run as "
        "(default: $DOCKYARD_TASK_USER, else nobody)",
    )  # fmt: skip
    group.add_argument(
        "--insecure-open-api", action="store_true",
        help="serve the API on a non-loopback --host without --auth-file: anyone who reaches "
        "it runs tasks on this host",
    )  # fmt: skip


def task_policies(args: argparse.Namespace) -> TaskPolicies:
    """The server's task policies from --task-policy and the --allow-* flags (PolicyError:
    what is wrong with them)."""
    policies = load_policies(args.task_policy) if args.task_policy else TaskPolicies()
    if policies.by_key and not args.auth_file:
        raise PolicyError(
            f"{args.task_policy} gives policies per access key: they need --auth-file "
            "(without it, any caller could claim an access key)"
        )
    grants = [Grant(g) for flag, names in ALLOW_FLAGS.items() if getattr(args, flag) for g in names]
    return policies.widened(grants)


def task_user_error(name: str | None) -> str | None:
    """Why --task-user cannot be used (an account this host does not have), if it cannot."""
    from dockyard.drivers.base import DriverError
    from dockyard.drivers.procenv import resolve_user

    name = name or os.environ.get("DOCKYARD_TASK_USER") or None
    try:
        resolve_user(name)
    except DriverError:
        return f"--task-user {name}: no such user on this host"
    return None


def server_safety(args: argparse.Namespace) -> TaskPolicies:
    """`dockyard server`'s safety options, checked: the task policies to serve with
    (ValueError: what to fix first)."""
    refusal = open_api_refusal(args.host, bool(args.auth_file), args.insecure_open_api)
    if refusal:
        raise ValueError(refusal)
    try:
        policies = task_policies(args)
    except PolicyError as exc:
        raise ValueError(f"--task-policy {exc}") from None
    if error := task_user_error(args.task_user):
        raise ValueError(error)
    return policies
