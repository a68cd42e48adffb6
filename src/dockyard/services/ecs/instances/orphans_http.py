"""The operator's side of orphaned tasks, over HTTP (what `dockyard orphans` calls).

  GET  /_dockyard/orphans       -> {"orphans": [Orphan.to_wire()]}
  POST /_dockyard/orphans/stop  {"taskArns": [ARN, ...]} or {"all": true}
                                -> {"stopping": [ARN], "unknown": [ARN]}

Stopping is asynchronous: the orphan's agent is told at its next poll (at once: the poll is
woken), stops the task's containers and reports it STOPPED; the orphan then leaves the list.
When the server has credentials (`--auth-file`), requests must be SigV4-signed (service `ecs`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from dockyard.api.asgi import Receive, Scope, Send
from dockyard.api.auth import AuthError, parse_sigv4, verify
from dockyard.api.http import HttpRequest
from dockyard.api.limits import Disconnected, content_length, read_body
from dockyard.core.errors import ServiceError
from dockyard.services.ecs.instances.orphans import Orphans

log = logging.getLogger(__name__)

PREFIX = "/_dockyard/orphans"
MAX_BODY = 1024 * 1024


class OrphansEndpoint:
    def __init__(self, orphans: Orphans, credentials: dict[str, str] | None = None) -> None:
        self.orphans = orphans
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = dict(scope["headers"]).get(b"content-length", b"").decode("latin-1") or None
        try:
            body = await read_body(receive, content_length(length), MAX_BODY)
        except Disconnected:
            return
        except ServiceError as exc:
            await _send(send, exc.status, {"__type": exc.code, "message": exc.message})
            return
        raw_path = scope.get("raw_path")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        req = HttpRequest(
            method=scope["method"],
            path=raw_path.decode("latin-1") if raw_path else scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
        )
        status, doc = self.handle(req, scope["path"].rstrip("/"))
        await _send(send, status, doc)

    def handle(self, req: HttpRequest, path: str) -> tuple[int, dict[str, Any]]:
        try:
            if self.credentials is not None:
                verify(req, parse_sigv4(req), self.credentials, "json")
        except AuthError as exc:
            return 403, {"__type": exc.code, "message": exc.message}
        if path == PREFIX and req.method == "GET":
            return 200, {"orphans": [o.to_wire() for o in self.orphans.listed()]}
        if path == PREFIX + "/stop" and req.method == "POST":
            return self._stop(req.body)
        return 404, {"__type": "NotFound", "message": f"No such route: {req.method} {path}"}

    def _stop(self, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            return _bad(f"the body is not JSON: {exc}")
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object")
        arns = body.get("taskArns")
        every = body.get("all") is True
        if every == (arns is not None):
            return _bad("give either taskArns (a list of task ARNs) or all: true")
        if arns is not None and (
            not isinstance(arns, list) or not arns or not all(isinstance(a, str) for a in arns)
        ):
            return _bad("taskArns must be a non-empty list of task ARNs")
        try:
            chosen, unknown = self.orphans.request_stop(None if every else arns)
        except Exception:
            log.exception("cannot record the stop of orphaned tasks")
            return 503, {"__type": "ServiceUnavailableException",
                         "message": "the store did not take the change; try again"}  # fmt: skip
        return 200, {"stopping": [o.task_arn for o in chosen], "unknown": unknown}


def _bad(message: str) -> tuple[int, dict[str, Any]]:
    return 400, {"__type": "InvalidParameterException", "message": message}


async def _send(send: Send, status: int, doc: dict[str, Any]) -> None:
    payload = json.dumps(doc).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]})  # fmt: skip
    await send({"type": "http.response.body", "body": payload})
