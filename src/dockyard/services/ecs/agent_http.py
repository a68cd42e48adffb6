"""The agent protocol over HTTP: what remote `dockyard agent` processes call.

POST /_dockyard/agent/v1/<call> with a JSON body; every call maps onto one `ServerLink` method
of an `EmbeddedLink` (hosts joining here are plain container instances, not managed capacity):

  register     Registration fields            -> {"containerInstanceArn": ARN}
  heartbeat    {"containerInstanceArn"}       -> {}
  assignments  {"containerInstanceArn", "wait"} -> {"assignments": [Assignment.to_dict()]}
  report       {"containerInstanceArn", "statuses": [TaskStatus.to_dict()]} -> {}
  logs         {"accountId", "region", "group", "stream", "events", "createGroup"} -> {}
  stats        {"containerInstanceArn", "stats": [ContainerStats.to_dict()]} -> {}
  orphans      {"containerInstanceArn", "tasks": [OrphanReport.to_dict()]}
               -> {"verdicts": [OrphanVerdict.to_dict()]}

Errors answer {"__type": code, "message": ...}: 404 UnknownInstance (the agent registers
again), 400 for bad input, 403 when the server has credentials and the request is not SigV4
signed with one of them (service name `ecs`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from dockyard.api.asgi import Receive, Scope, Send
from dockyard.api.auth import AuthError, parse_sigv4, verify
from dockyard.api.errors import ServiceError
from dockyard.api.http import HttpRequest
from dockyard.core.agentlink import LogEvent, Registration, UnknownInstance
from dockyard.core.agentstats import ContainerStats
from dockyard.core.orphans import OrphanReport
from dockyard.core.taskspec import TaskStatus
from dockyard.services.ecs.agent_link import EmbeddedLink

log = logging.getLogger(__name__)

PREFIX = "/_dockyard/agent/v1/"
MAX_WAIT = 60.0  # seconds a long poll for assignments may hold a request
MAX_BODY = 16 * 1024 * 1024

Body = dict[str, Any]


class BadRequest(ServiceError):
    code = "InvalidParameterException"


def _field(body: Body, name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind):
        raise BadRequest(f"{name} must be a {kind.__name__}")
    return value


def _registration(body: Body) -> Registration:
    attributes = body.get("attributes") or {}
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in attributes.items()
    ):
        raise BadRequest("attributes must map names to strings or null")
    arn = body.get("containerInstanceArn")
    return Registration(
        cluster=_field(body, "cluster", str),
        cpu=_field(body, "cpu", int),
        memory=_field(body, "memory", int),
        attributes=dict(attributes),
        hostname=str(body.get("hostname") or ""),
        agent_version=str(body.get("agentVersion") or ""),
        container_instance_arn=arn if isinstance(arn, str) and arn else None,
        host_ip=str(body.get("hostIp") or "127.0.0.1"),
    )


class AgentEndpoint:
    """An ASGI app serving the agent protocol from one `EmbeddedLink`."""

    def __init__(self, link: EmbeddedLink, credentials: dict[str, str] | None = None) -> None:
        self.link = link
        self.credentials = credentials
        self.calls: dict[str, Callable[[Body], Awaitable[Body]]] = {
            "register": self._register,
            "heartbeat": self._heartbeat,
            "assignments": self._assignments,
            "report": self._report,
            "logs": self._logs,
            "stats": self._stats,
            "orphans": self._orphans,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await self._send(send, 413, {"__type": "RequestTooLarge", "message": "too large"})
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = scope.get("raw_path")
        req = HttpRequest(
            method=scope["method"],
            path=raw_path.decode("latin-1") if raw_path else scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"".join(chunks),
        )
        status, doc = await self.handle(req, scope["path"])
        await self._send(send, status, doc)

    async def handle(self, req: HttpRequest, path: str) -> tuple[int, Body]:
        name = path.removeprefix(PREFIX)
        call = self.calls.get(name) if path.startswith(PREFIX) else None
        if call is None or req.method != "POST":
            return 404, {"__type": "NotFound", "message": f"No such route: {req.method} {path}"}
        try:
            if self.credentials is not None:
                verify(req, parse_sigv4(req), self.credentials, "json")
            try:
                body = json.loads(req.body or b"{}")
            except ValueError as exc:
                raise BadRequest(f"the body is not JSON: {exc}") from exc
            if not isinstance(body, dict):
                raise BadRequest("the body must be a JSON object")
            return 200, await call(body)
        except UnknownInstance as exc:
            return 404, {"__type": "UnknownInstance", "message": str(exc)}
        except AuthError as exc:
            return 403, {"__type": exc.code, "message": exc.message}
        except ServiceError as exc:
            return exc.status, {"__type": exc.code, "message": exc.message}
        except (KeyError, TypeError, ValueError) as exc:
            return 400, {"__type": "InvalidParameterException", "message": f"bad {name}: {exc}"}
        except Exception:
            log.exception("agent call %s failed", name)
            return 500, {"__type": "ServerException", "message": "internal error"}

    @staticmethod
    async def _send(send: Send, status: int, doc: Body) -> None:
        payload = json.dumps(doc).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    # -- calls -------------------------------------------------------------------------------

    async def _register(self, body: Body) -> Body:
        arn = await self.link.register(_registration(body))
        return {"containerInstanceArn": arn}

    async def _heartbeat(self, body: Body) -> Body:
        await self.link.heartbeat(_field(body, "containerInstanceArn", str))
        return {}

    async def _assignments(self, body: Body) -> Body:
        wait = body.get("wait", 0)
        if not isinstance(wait, int | float) or wait < 0:
            raise BadRequest("wait must be a non-negative number of seconds")
        arn = _field(body, "containerInstanceArn", str)
        found = await self.link.assignments(arn, min(float(wait), MAX_WAIT))
        return {"assignments": [a.to_dict() for a in found]}

    async def _report(self, body: Body) -> Body:
        statuses = [TaskStatus.from_dict(s) for s in _field(body, "statuses", list)]
        await self.link.report(_field(body, "containerInstanceArn", str), statuses)
        return {}

    async def _logs(self, body: Body) -> Body:
        events = [
            LogEvent(int(e["timestamp_ms"]), str(e["message"]))
            for e in _field(body, "events", list)
        ]
        await self.link.put_logs(
            _field(body, "accountId", str),
            _field(body, "region", str),
            _field(body, "group", str),
            _field(body, "stream", str),
            events,
            bool(body.get("createGroup")),
        )
        return {}

    async def _orphans(self, body: Body) -> Body:
        reports = [OrphanReport.from_dict(t) for t in _field(body, "tasks", list)]
        verdicts = await self.link.orphans(_field(body, "containerInstanceArn", str), reports)
        return {"verdicts": [v.to_dict() for v in verdicts]}

    async def _stats(self, body: Body) -> Body:
        stats = [ContainerStats.from_dict(s) for s in _field(body, "stats", list)]
        await self.link.report_stats(_field(body, "containerInstanceArn", str), stats)
        return {}
