"""The ASGI application: Dockyard's own routes, extra mounted apps, and the AWS front door."""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote

from dockyard.api.asgi import ASGIApp, Receive, Scope, Send
from dockyard.api.config import FrontDoorConfig
from dockyard.api.dispatch import FrontDoor
from dockyard.api.http import HttpRequest, HttpResponse
from dockyard.api.models import ModelCatalog
from dockyard.api.provider import Provider
from dockyard.store.base import StoreUnavailable

__all__ = ["DockyardApp", "FrontDoorConfig", "create_app"]

log = logging.getLogger(__name__)

INTERNAL_PREFIX = "/_dockyard/"


def _json(status: int, doc: object) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "application/json")], json.dumps(doc).encode("utf-8")
    )


MAX_INFLATED = 64 * 1024 * 1024


def _gunzip(data: bytes) -> bytes | None:
    """A gzip body inflated (at most MAX_INFLATED bytes); None when it is not gzip."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_INFLATED)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else out


class DockyardApp:
    def __init__(
        self,
        config: FrontDoorConfig,
        providers: Sequence[Provider],
        *,
        on_reset: Callable[[], None] | None = None,
        extra_routes: Mapping[str, ASGIApp] | None = None,
        catalog: ModelCatalog | None = None,
    ) -> None:
        self.config = config
        self.providers = list(providers)
        self.on_reset = on_reset
        self.extra_routes = tuple((extra_routes or {}).items())
        self.catalog = catalog or ModelCatalog(config.model_paths)
        self.front_door = FrontDoor(config, self.providers, self.catalog)
        # Index every model and load the served ones now, not on the first request.
        _ = self.catalog.infos
        for provider in self.providers:
            if self.catalog.info(provider.service) is None:
                log.warning("no botocore model for served service %s", provider.service)
            else:
                self.catalog.service_model(provider.service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        for prefix, app in self.extra_routes:
            if path.startswith(prefix):
                await app(scope, receive, send)
                return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raw_path = scope.get("raw_path")
        req = HttpRequest(
            method=scope["method"],
            path=raw_path.decode("latin-1") if raw_path else quote(path),
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=chunks[0] if len(chunks) == 1 else b"".join(chunks),
        )
        if "gzip" in headers.get("content-encoding", "") and req.body:
            # SDKs compress large bodies (PutMetricData); the signature covers what was sent.
            inflated = _gunzip(req.body)
            if inflated is not None:
                req.raw_body, req.body = req.body, inflated
        if path.startswith(INTERNAL_PREFIX):
            response = self._internal(req, path)
        else:
            response = await self.front_door.handle(req)
        await self._send(send, response, head=scope["method"] == "HEAD")

    @staticmethod
    async def _send(send: Send, response: HttpResponse, head: bool) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status,
                    "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else response.body})

    # -- Dockyard's own routes ------------------------------------------------------------

    def _internal(self, req: HttpRequest, path: str) -> HttpResponse:
        if path == "/_dockyard/health" and req.method in ("GET", "HEAD"):
            return _json(200, {
                "status": "running",
                "version": self.config.version,
                "services": sorted(p.service for p in self.providers),
                "pid": os.getpid(),
            })
        if path == "/_dockyard/reset" and req.method == "POST":
            if not self.config.allow_reset:
                return _json(403, {"__type": "AccessDeniedException",
                                   "message": "Reset is disabled on this server"})
            if self.on_reset is not None:
                try:
                    self.on_reset()
                except StoreUnavailable as exc:
                    return _json(503, {"__type": "ServiceUnavailable", "message": str(exc)})
            for provider in self.providers:
                if provider.reset is not None:
                    provider.reset()
            log.info("state reset through /_dockyard/reset")
            return _json(200, {"status": "reset"})
        return _json(404, {"__type": "NotFound", "message": f"No such route: {req.method} {path}"})


def create_app(
    config: FrontDoorConfig,
    providers: Sequence[Provider],
    *,
    on_reset: Callable[[], None] | None = None,
    extra_routes: Mapping[str, ASGIApp] | None = None,
) -> DockyardApp:
    return DockyardApp(config, providers, on_reset=on_reset, extra_routes=extra_routes)
