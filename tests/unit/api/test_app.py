"""Dockyard's own routes and mounted apps."""

from __future__ import annotations

from typing import Any

from dockyard.api.app import FrontDoorConfig, create_app
from dockyard.api.asgi import Receive, Scope, Send
from dockyard.api.provider import Provider
from tests.unit.api.conftest import Server
from tests.unit.api.rawhttp import request


def test_health(server: Server) -> None:
    reply = request(server.url, "GET", "/_dockyard/health")
    assert reply.status == 200
    doc = reply.json()
    assert doc["status"] == "running"
    assert doc["version"]
    assert "testjson" in doc["services"]


def test_reset_calls_the_store_and_every_provider(server: Server, resets: list[str]) -> None:
    resets.clear()
    reply = request(server.url, "POST", "/_dockyard/reset")
    assert reply.status == 200
    assert resets == ["store", "testjson"]


def test_unknown_internal_route(server: Server) -> None:
    reply = request(server.url, "GET", "/_dockyard/nope")
    assert reply.status == 404


async def _run(app: Any, method: str, path: str) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
    }
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def _agent(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"agent:" + scope["path"].encode()})


def test_reset_is_refused_unless_allowed_and_extra_routes_are_mounted() -> None:
    import asyncio

    called: list[str] = []
    app = create_app(
        FrontDoorConfig(),
        [Provider("ecs", {}, reset=lambda: called.append("ecs"))],
        on_reset=lambda: called.append("store"),
        extra_routes={"/_agent/": _agent},
    )

    async def scenario() -> None:
        status, body = await _run(app, "POST", "/_dockyard/reset")
        assert status == 403
        assert called == []
        status, body = await _run(app, "GET", "/_agent/v1/heartbeat")
        assert (status, body) == (200, b"agent:/_agent/v1/heartbeat")

    asyncio.run(scenario())
