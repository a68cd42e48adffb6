"""`dockyard orphans list|stop`: the operator's command for orphaned tasks.

An orphan is a task an agent runs that the server does not know (its state was reset,
restored from a backup, or it was started on another --store): the agent keeps it running and
reports it; the operator lists them and stops those nobody wants. See docs/orphans.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import httpx

PATH = "/_dockyard/orphans"
POLL = 0.5


def add_orphans_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    orphans = commands.add_parser(
        "orphans",
        help="list or stop the tasks agents run that the server does not know",
        description="Tasks the server no longer knows (after /_dockyard/reset, a restored "
        "backup, another --store) keep running on their agents, as orphans. List them, or "
        "stop them: the agent sends SIGTERM, then SIGKILL after the container's stopTimeout.",
    )
    orphans.add_argument("action", choices=["list", "stop"])
    orphans.add_argument("task_arns", nargs="*", metavar="TASK_ARN", help="orphans to stop")
    orphans.add_argument("--all", action="store_true", help="stop every orphan")
    orphans.add_argument(
        "--server",
        default=os.environ.get("DOCKYARD_SERVER", "http://127.0.0.1:4566"),
        help="the server's URL (default: $DOCKYARD_SERVER, else %(default)s)",
    )
    orphans.add_argument("--json", action="store_true", help="print the server's JSON answer")
    orphans.add_argument(
        "--wait", type=float, default=60.0, metavar="SECONDS",
        help="stop: wait up to this long for the agents to report the tasks stopped "
        "(0: do not wait; default %(default)s)",
    )  # fmt: skip
    orphans.add_argument(
        "--access-key", default=os.environ.get("AWS_ACCESS_KEY_ID"),
        help="sign requests with these credentials, for a server with --auth-file "
        "(default: $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY)",
    )  # fmt: skip
    orphans.add_argument("--secret-key", default=os.environ.get("AWS_SECRET_ACCESS_KEY"))
    orphans.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    orphans.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )


class CommandError(Exception):
    pass


def _call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> Any:
    url = args.server.rstrip("/") + path
    payload = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"}
    if args.access_key and args.secret_key:
        # Here, not at the top: every `dockyard` command builds this module's parser, and an
        # agent starting in each of many hosts would pay for botocore's import.
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(method=method, url=url, data=payload, headers=headers)
        SigV4Auth(Credentials(args.access_key, args.secret_key), "ecs", args.region).add_auth(
            request
        )
        headers = {k: str(v) for k, v in request.headers.items()}
    try:
        response = httpx.request(method, url, content=payload, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise CommandError(f"cannot reach the server at {args.server}: {exc}") from exc
    try:
        doc = response.json()
    except ValueError:
        doc = {}
    if response.status_code != 200:
        code = doc.get("__type", "Error") if isinstance(doc, dict) else "Error"
        message = doc.get("message", response.text[:200]) if isinstance(doc, dict) else ""
        raise CommandError(f"{code}: {message} (HTTP {response.status_code})")
    return doc


def _print_table(orphans: list[dict[str, Any]]) -> None:
    if not orphans:
        print("no orphaned tasks")
        return
    for o in orphans:
        state = "STOPPING" if o["stopRequested"] else o["lastStatus"]
        print(f"{o['taskArn']}  {state}  {o['taskDefinition']}  on {o['containerInstanceArn']}")


def run_orphans_command(args: argparse.Namespace) -> int:
    try:
        if args.action == "list":
            if args.task_arns or args.all:
                print("dockyard: orphans list takes no task ARNs", file=sys.stderr)
                return 2
            doc = _call(args, "GET", PATH)
            if args.json:
                print(json.dumps(doc, indent=2))
            else:
                _print_table(doc["orphans"])
            return 0
        if bool(args.task_arns) == args.all:
            print("dockyard: orphans stop: give TASK_ARN... or --all", file=sys.stderr)
            return 2
        body = {"all": True} if args.all else {"taskArns": args.task_arns}
        doc = _call(args, "POST", PATH + "/stop", body)
        for arn in doc["unknown"]:
            print(f"dockyard: {arn} is not an orphaned task", file=sys.stderr)
        if args.json:
            print(json.dumps(doc, indent=2))
        stopping = set(doc["stopping"])
        deadline = time.monotonic() + args.wait
        while stopping and args.wait > 0:
            listed = {o["taskArn"] for o in _call(args, "GET", PATH)["orphans"]}
            for arn in sorted(stopping - listed):
                print(f"stopped {arn}")
            stopping &= listed
            if not stopping:
                break
            if time.monotonic() >= deadline:
                for arn in sorted(stopping):
                    print(f"dockyard: {arn} is not stopped yet (is its agent up?)",
                          file=sys.stderr)  # fmt: skip
                return 1
            time.sleep(POLL)
        if args.wait <= 0 and not args.json:
            for arn in sorted(stopping):
                print(f"stopping {arn}")
        return 1 if doc["unknown"] else 0
    except CommandError as exc:
        print(f"dockyard: {exc}", file=sys.stderr)
        return 1
