"""The agent protocol over HTTP: what remote `dockyard agent` processes call.

POST /_dockyard/agent/v1/<call> with a JSON body; every call maps onto one `ServerLink` method
of an `EmbeddedLink` (hosts joining here are plain container instances, not managed capacity):

  register     Registration fields, "joinToken" -> {"containerInstanceArn": ARN,
                                                 "agentCredential": secret (when issued)}
  heartbeat    {"containerInstanceArn"}       -> {}
  assignments  {"containerInstanceArn", "wait"} -> {"assignments": [Assignment.to_dict()]}
  report       {"containerInstanceArn", "statuses": [TaskStatus.to_dict()]} -> {}
  logs         {"accountId", "region", "group", "stream", "events", "createGroup"} -> {}
  stats        {"containerInstanceArn", "stats": [ContainerStats.to_dict()]} -> {}
  orphans      {"containerInstanceArn", "tasks": [OrphanReport.to_dict()]}
               -> {"verdicts": [OrphanVerdict.to_dict()]}
  credentials  {"containerInstanceArn", "taskArn"}
               -> {"credentials": TemporaryCredentials.to_dict()} (the task role's)

An agent registers with a join token and receives its own credential; later calls carry it
(agent_guard.py) and may only touch that instance. Operators manage join tokens with three
calls, SigV4-signed (service `ecs`) with a key of `--auth-file` when the server has one; a
token belongs to the signer's account:

  join-token          {"cluster", "ttlSeconds"?} -> {"joinToken": text, "token": {...}}
  list-join-tokens    {}                         -> {"tokens": [{...}]}
  revoke-join-token   {"tokenId"}                -> {}

Errors answer {"__type": code, "message": ...}: 404 UnknownInstance (the agent registers
again), 400 for bad input, 403 for a missing or wrong credential or token, or a call about
another instance.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from dockyard.api.asgi import Receive, Send
from dockyard.api.asgi import Scope as AsgiScope
from dockyard.api.auth import AuthError, identify, parse_sigv4, verify
from dockyard.api.http import HttpRequest
from dockyard.api.limits import Disconnected, content_length, read_body
from dockyard.core.agentlink import LogEvent, Registration, UnknownInstance
from dockyard.core.agentstats import ContainerStats
from dockyard.core.errors import ServiceError
from dockyard.core.orphans import OrphanReport
from dockyard.core.scope import Scope
from dockyard.core.taskspec import TaskStatus
from dockyard.services.ecs.instances.agent_guard import AgentGuard, arn_account, denied
from dockyard.services.ecs.instances.agent_identity import (
    DEFAULT_TOKEN_TTL,
    MAX_TOKEN_TTL,
    AgentIdentities,
    InvalidToken,
)
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from dockyard.services.ecs.instances.domain import InstanceStatus
from dockyard.store.base import is_unavailable

log = logging.getLogger(__name__)

PREFIX = "/_dockyard/agent/v1/"
MAX_WAIT = 60.0  # seconds a long poll for assignments may hold a request
MAX_BODY = 16 * 1024 * 1024

Body = dict[str, Any]
Call = Callable[[Body, str | None], Awaitable[Body]]


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
        identity_document=_optional(body, "identityDocument"),
        identity_signature=_optional(body, "identitySignature"),
    )


def _optional(body: Body, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a str")
    return value or None


def _cluster_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1] if ref.startswith("arn:") else ref


class AgentEndpoint:
    """An ASGI app serving the agent protocol from one `EmbeddedLink`."""

    def __init__(
        self,
        link: EmbeddedLink,
        credentials: dict[str, str] | None = None,
        identities: AgentIdentities | None = None,
    ) -> None:
        self.link = link
        self.credentials = credentials
        self.identities = identities or AgentIdentities(link.ecs.store, link.ecs.clock)
        self.guard = AgentGuard(link.ecs, self.identities, open_auth=credentials is None)
        self.calls: dict[str, Call] = {
            "register": self._register,
            "heartbeat": self._heartbeat,
            "assignments": self._assignments,
            "report": self._report,
            "logs": self._logs,
            "stats": self._stats,
            "orphans": self._orphans,
            "credentials": self._credentials,
        }
        self.admin_calls: dict[str, Callable[[Body, Scope], Body]] = {
            "join-token": self._join_token,
            "list-join-tokens": self._list_join_tokens,
            "revoke-join-token": self._revoke_join_token,
        }

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await read_body(receive, content_length(headers.get("content-length")), MAX_BODY)
        except Disconnected:
            return
        except ServiceError as exc:
            await self._send(send, exc.status, {"__type": exc.code, "message": exc.message})
            return
        raw_path = scope.get("raw_path")
        req = HttpRequest(
            method=scope["method"],
            path=raw_path.decode("latin-1") if raw_path else scope["path"],
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
        )
        status, doc = await self.handle(req, scope["path"])
        await self._send(send, status, doc)

    async def handle(self, req: HttpRequest, path: str) -> tuple[int, Body]:
        name = path.removeprefix(PREFIX)
        known = path.startswith(PREFIX) and (name in self.calls or name in self.admin_calls)
        if not known or req.method != "POST":
            return 404, {"__type": "NotFound", "message": f"No such route: {req.method} {path}"}
        try:
            if name in self.admin_calls:
                scope = self._operator(req)
                return 200, self.admin_calls[name](self._body(req), scope)
            caller = self.guard.caller(req, lenient=name == "register")
            return 200, await self.calls[name](self._body(req), caller)
        except UnknownInstance as exc:
            return 404, {"__type": "UnknownInstance", "message": str(exc)}
        except AuthError as exc:
            return 403, {"__type": exc.code, "message": exc.message}
        except ServiceError as exc:
            return exc.status, {"__type": exc.code, "message": exc.message}
        except (KeyError, TypeError, ValueError) as exc:
            return 400, {"__type": "InvalidParameterException", "message": f"bad {name}: {exc}"}
        except Exception as exc:
            if is_unavailable(exc):  # the store refused the write: nothing changed, retry
                log.warning("agent call %s: the store is unavailable: %s", name, exc)
                return 503, {"__type": "ServiceUnavailable", "message": "store unavailable"}
            log.exception("agent call %s failed", name)
            return 500, {"__type": "ServerException", "message": "internal error"}

    @staticmethod
    def _body(req: HttpRequest) -> Body:
        try:
            body = json.loads(req.body or b"{}")
        except ValueError as exc:
            raise BadRequest(f"the body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body

    def _operator(self, req: HttpRequest) -> Scope:
        """The account and region of an operator's call: SigV4-verified with `--auth-file`."""
        sig = parse_sigv4(req)
        if self.credentials is not None:
            verify(req, sig, self.credentials, "json")
        who = identify(sig, self.link.scope.account_id, self.link.scope.region)
        return Scope(who.account_id, who.region)

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

    # -- join tokens (operators) -----------------------------------------------------------

    def _join_token(self, body: Body, scope: Scope) -> Body:
        cluster = _cluster_name(_field(body, "cluster", str))
        if not cluster:
            raise BadRequest("cluster must name a cluster")
        ttl = body.get("ttlSeconds", DEFAULT_TOKEN_TTL)
        valid = isinstance(ttl, int | float) and not isinstance(ttl, bool)
        if not valid or not 0 < ttl <= MAX_TOKEN_TTL:
            raise BadRequest(f"ttlSeconds must be seconds in (0, {MAX_TOKEN_TTL:.0f}]")
        issued = self.identities.issue_token(scope.account_id, scope.region, cluster, float(ttl))
        return {"joinToken": issued.text, "token": issued.token.to_dict()}

    def _list_join_tokens(self, body: Body, scope: Scope) -> Body:
        return {"tokens": [t.to_dict() for t in self.identities.tokens(scope.account_id)]}

    def _revoke_join_token(self, body: Body, scope: Scope) -> Body:
        token_id = _field(body, "tokenId", str)
        if not self.identities.revoke_token(scope.account_id, token_id):
            raise ServiceError(
                f"no join token {token_id} in account {scope.account_id}",
                code="ResourceNotFoundException",
                status=404,
            )
        return {}

    # -- agent calls -------------------------------------------------------------------------

    async def _register(self, body: Body, caller: str | None) -> Body:
        registration = _registration(body)
        text = body.get("joinToken")
        if text is not None and not isinstance(text, str):
            raise BadRequest("joinToken must be a string")
        try:
            token = self.identities.check_token(text) if text else None
        except InvalidToken as exc:
            raise denied(str(exc)) from exc
        requested = registration.container_instance_arn
        existing = self.link.ecs.instances.by_arn.get(requested) if requested else None
        if requested and self.identities.has_credential(requested) and caller != requested:
            raise denied(
                f"re-registering container instance {requested} needs that instance's agent "
                "credential"
            )
        if existing is not None and existing.managed and existing.status != InstanceStatus.INACTIVE:
            raise denied(f"container instance {requested} is the server's own capacity")
        scope = self.link.scope
        if token is not None:
            if _cluster_name(registration.cluster) != token.cluster:
                raise denied(
                    f"the join token {token.token_id} is for cluster {token.cluster}, "
                    f"not {registration.cluster}"
                )
            scope = Scope(token.account_id, token.region)
            if existing is not None and arn_account(existing.arn) != (
                token.account_id,
                token.region,
            ):
                raise denied(f"the join token is not for the account of {existing.arn}")
            if existing is not None and _cluster_name(existing.cluster_arn) != token.cluster:
                raise denied(f"the join token is not for the cluster of {existing.arn}")
        elif caller is not None and caller == requested:  # that instance's own agent
            scope = Scope(*arn_account(caller))
        elif self.credentials is not None:
            raise AuthError(
                "registering an agent needs a join token: create one with `dockyard "
                "join-token` and start the agent with --token-file or $DOCKYARD_JOIN_TOKEN",
                code="MissingAuthenticationToken",
            )
        else:
            self.guard.warn_once(
                f"register:{requested}",
                "an agent joins cluster %s without a join token (the server has no --auth-file)",
                registration.cluster,
            )
        arn = await self.link.register(registration, scope)
        out: Body = {"containerInstanceArn": arn}
        if caller != arn:  # a new instance, or one that had no credential yet
            out["agentCredential"] = self.identities.issue_credential(arn)
        return out

    async def _heartbeat(self, body: Body, caller: str | None) -> Body:
        arn = _field(body, "containerInstanceArn", str)
        self.guard.own(caller, arn)
        await self.link.heartbeat(arn)
        return {}

    async def _assignments(self, body: Body, caller: str | None) -> Body:
        wait = body.get("wait", 0)
        if not isinstance(wait, int | float) or wait < 0:
            raise BadRequest("wait must be a non-negative number of seconds")
        arn = _field(body, "containerInstanceArn", str)
        self.guard.own(caller, arn)
        found = await self.link.assignments(arn, min(float(wait), MAX_WAIT))
        return {"assignments": [a.to_dict() for a in found]}

    async def _report(self, body: Body, caller: str | None) -> Body:
        statuses = [TaskStatus.from_dict(s) for s in _field(body, "statuses", list)]
        arn = _field(body, "containerInstanceArn", str)
        self.guard.own(caller, arn)
        await self.link.report(arn, statuses)
        return {}

    async def _logs(self, body: Body, caller: str | None) -> Body:
        events = [
            LogEvent(int(e["timestamp_ms"]), str(e["message"]))
            for e in _field(body, "events", list)
        ]
        account_id = _field(body, "accountId", str)
        region = _field(body, "region", str)
        group = _field(body, "group", str)
        self.guard.may_log(caller, account_id, region, group)
        await self.link.put_logs(
            account_id,
            region,
            group,
            _field(body, "stream", str),
            events,
            bool(body.get("createGroup")),
        )
        return {}

    async def _credentials(self, body: Body, caller: str | None) -> Body:
        arn = _field(body, "containerInstanceArn", str)
        task_arn = _field(body, "taskArn", str)
        self.guard.own(caller, arn)
        found = await self.link.task_credentials(arn, task_arn)
        return {"credentials": found.to_dict()}

    async def _orphans(self, body: Body, caller: str | None) -> Body:
        reports = [OrphanReport.from_dict(t) for t in _field(body, "tasks", list)]
        arn = _field(body, "containerInstanceArn", str)
        self.guard.own(caller, arn)
        verdicts = await self.link.orphans(arn, reports)
        return {"verdicts": [v.to_dict() for v in verdicts]}

    async def _stats(self, body: Body, caller: str | None) -> Body:
        stats = [ContainerStats.from_dict(s) for s in _field(body, "stats", list)]
        arn = _field(body, "containerInstanceArn", str)
        self.guard.own(caller, arn)
        await self.link.report_stats(arn, stats)
        return {}
