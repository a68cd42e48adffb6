"""The ASGI application: Dockyard's own routes, extra mounted apps, and the AWS front door."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from urllib.parse import quote

from dockyard.api.asgi import ASGIApp, Receive, Scope, Send
from dockyard.api.auth import authenticate, check_signature, parse_sigv4
from dockyard.api.config import FrontDoorConfig
from dockyard.api.dispatch import FrontDoor
from dockyard.api.errors import UnsupportedOperation
from dockyard.api.http import HttpRequest, HttpResponse
from dockyard.api.limits import (
    MAX_HEADER_BYTES,
    MAX_URL_BYTES,
    Disconnected,
    HeadersTooLarge,
    UriTooLong,
    content_length,
    gunzip,
    read_body,
)
from dockyard.api.models import ModelCatalog
from dockyard.api.provider import Provider
from dockyard.api.sigv2 import check_presigned_v2, presigned_v2
from dockyard.api.streaming import RequestBody, bucket_path, virtual_host_bucket
from dockyard.core.errors import ServiceError
from dockyard.core.principals import KeyDirectory, StaticKeys
from dockyard.store.base import StoreUnavailable

__all__ = ["DockyardApp", "FrontDoorConfig", "create_app"]

log = logging.getLogger(__name__)

INTERNAL_PREFIX = "/_dockyard/"
# STS actions AWS serves without a signature (identity-provider tokens stand in for one).
UNSIGNED_ACTIONS = ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")
MAX_UNSIGNED_BODY = 128 * 1024  # a SAML assertion is at most 100,000 characters
HEALTH_PATH = "/_dockyard/health"


def _json(status: int, doc: object) -> HttpResponse:
    return HttpResponse(
        status, [("Content-Type", "application/json")], json.dumps(doc).encode("utf-8")
    )


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
        # Who may sign: the composition root's key directory, else the auth file's keys.
        self.keys: KeyDirectory | None = config.keys
        if self.keys is None and config.credentials is not None:
            self.keys = StaticKeys(config.credentials, config.accounts, config.default_account_id)
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
        head = scope["method"] == "HEAD"
        headers: dict[str, str] = {}
        header_bytes = 0
        for raw_name, raw_value in scope["headers"]:
            header_bytes += len(raw_name) + len(raw_value)
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raw_path = scope.get("raw_path")
        req = HttpRequest(
            method=scope["method"],
            path=raw_path.decode("latin-1") if raw_path else quote(path),
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
        )
        sig = parse_sigv4(req)
        credentials = self.config.credentials
        keys = self.keys
        client = scope.get("client")
        source_ip = str(client[0]) if client else None
        # Authentication, first from the headers alone: an unknown key, a stale date or an
        # unsigned host is refused before a byte of the body is read.
        open_route = path == HEALTH_PATH and req.method in ("GET", "HEAD")
        # A browser's CORS preflight is never signed (S3 answers it from the bucket's rules).
        open_route = open_route or (
            req.method == "OPTIONS" and "access-control-request-method" in headers
        )
        internal = path.startswith(INTERNAL_PREFIX)
        protocol = "json" if internal else ""
        try:
            if len(req.path) + len(req.query_string) > MAX_URL_BYTES:
                raise UriTooLong(f"Request URI is longer than {MAX_URL_BYTES} bytes")
            if header_bytes > MAX_HEADER_BYTES:
                raise HeadersTooLarge(f"Request headers are larger than {MAX_HEADER_BYTES} bytes")
            signer = None
            v2 = False  # an S3 presigned URL of the legacy (SigV2) form, checked whole here
            bucket = None if internal else virtual_host_bucket(headers.get("host", ""))
            if sig is None and not internal and presigned_v2(req):
                v2 = True
                # S3's legacy presigned URLs (boto3's default for generate_presigned_url).
                signed_path = req.path if bucket is None else bucket_path(req.path, bucket)
                sig, signer = check_presigned_v2(
                    req, keys if credentials is not None else None, signed_path,
                    self.config.default_region,
                )  # fmt: skip
            elif credentials is not None and keys is not None and not open_route:
                if not protocol:
                    protocol = self.front_door.guess(req, sig)[0]
                if sig is not None or internal or not self._maybe_unsigned(req):
                    signer = authenticate(req, sig, keys, protocol)
            routed = req if bucket is None else replace(req, path=bucket_path(req.path, bucket))
            streaming = None
            if req.method == "PUT" and not internal and (sig is None or sig.service == "s3"):
                streaming = self.front_door.streaming_route(routed, sig)
            if streaming is not None:
                # S3 uploads: the body goes to the handler as a stream (hashed as it is
                # stored, its signature checked before anything is committed).
                secret = signer.secret if signer is not None and not v2 else None
                body = RequestBody(receive, req, sig, secret)
                response = await self.front_door.handle(
                    routed,
                    sig,
                    route=streaming,
                    body=body,
                    signer=signer,
                    source_ip=source_ip,
                    secure=scope.get("scheme") == "https",
                )
                if not body.finished:
                    response.headers.append(("Connection", "close"))
                await self._send(send, response, head=head)
                return
            req.body = await read_body(
                receive,
                content_length(headers.get("content-length")),
                self.config.max_body_bytes,
            )
            if signer is None and credentials is not None and not open_route:
                # AWS takes these STS calls unsigned; Dockyard refuses them, and says so.
                if req.form.get("Action") not in UNSIGNED_ACTIONS:
                    authenticate(req, sig, keys or {}, protocol)
                raise UnsupportedOperation(
                    f"Dockyard does not support sts:{req.form.get('Action')}: it has no identity "
                    "providers (OIDC or SAML); use AssumeRole with IAM credentials"
                )
            if signer is not None and sig is not None and not v2:
                check_signature(req, sig, signer.secret, protocol)
            if "gzip" in headers.get("content-encoding", "") and req.body:
                # SDKs compress large bodies (PutMetricData); the signature covers what was
                # sent, and the inflated body is capped like any other.
                inflated = gunzip(req.body, self.config.max_body_bytes)
                if inflated is not None:
                    req.raw_body, req.body = req.body, inflated
            if bucket is not None:
                req.path = routed.path  # signed as sent; routed path-style from here
        except Disconnected:
            return
        except ServiceError as err:
            if internal:
                response = _json(err.status, {"__type": err.code, "message": err.message})
            else:
                response = self.front_door.error(err, req, sig)
            await self._send(send, response, head=head)
            return
        preflight = None
        if req.method == "OPTIONS" and not internal and "access-control-request-method" in headers:
            preflight = self.front_door.preflight(req)  # S3 CORS: unsigned, as browsers send
        if internal and signer is not None and not signer.principal.is_root:
            # Dockyard's own routes (reset) are for the account root's keys only.
            message = f"User: {signer.principal.arn} is not authorized to use {path}"
            response = _json(403, {"__type": "AccessDeniedException", "message": message})
        elif internal:
            response = self._internal(req, path)
        elif preflight is not None:
            response = preflight
        else:
            response = await self.front_door.handle(
                req,
                sig,
                signer=signer,
                source_ip=source_ip,
                secure=scope.get("scheme") == "https",
            )
        await self._send(send, response, head=head)

    @staticmethod
    def _maybe_unsigned(req: HttpRequest) -> bool:
        """An unsigned, small form POST to `/`, which may be one of the STS actions AWS takes
        unsigned; any other unsigned request is refused before its body is read."""
        try:
            size = int(req.headers.get("content-length", ""))
        except ValueError:
            return False
        return (
            req.method == "POST"
            and req.path == "/"
            and req.is_form
            and "authorization" not in req.headers
            and 0 < size <= MAX_UNSIGNED_BODY
        )

    @staticmethod
    async def _send(send: Send, response: HttpResponse, head: bool) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        stream = response.stream
        no_body = head or response.status in (204, 304)
        if not any(k.lower() == b"content-length" for k, _ in headers):
            length = stream.length if stream is not None else len(response.body)
            headers.append(
                (b"content-length", str(0 if response.status == 304 else length).encode())
            )
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if stream is None or no_body:
            if stream is not None:
                await stream.close()
            await send({"type": "http.response.body", "body": b"" if no_body else response.body})
            return
        try:
            # Each piece goes once the next one is read (or the stream has ended): the last
            # one ends the response with it, one send fewer than an empty closing piece.
            held: bytes | None = None
            async for chunk in stream.chunks():
                if held is not None:
                    await send({"type": "http.response.body", "body": held, "more_body": True})
                held = chunk
            await send({"type": "http.response.body", "body": held or b""})
        finally:
            await stream.close()

    # -- Dockyard's own routes ------------------------------------------------------------

    def _internal(self, req: HttpRequest, path: str) -> HttpResponse:
        if path == HEALTH_PATH and req.method in ("GET", "HEAD"):
            if self.config.credentials is not None:
                # With auth on, this route stays open (liveness) and tells only that much.
                return _json(200, {"status": "running", "pid": os.getpid()})
            return _json(
                200,
                {
                    "status": "running",
                    "version": self.config.version,
                    "services": sorted(p.service for p in self.providers),
                    "pid": os.getpid(),
                },
            )
        if path == "/_dockyard/reset" and req.method == "POST":
            if not self.config.allow_reset:
                return _json(
                    403,
                    {
                        "__type": "AccessDeniedException",
                        "message": "Reset is disabled on this server",
                    },
                )
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
