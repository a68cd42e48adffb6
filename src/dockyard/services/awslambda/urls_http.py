"""Function URL requests (`<server>/lambda-url/<url-id>/<path>`): the HTTP request as
Lambda's payload format 2.0 event, the function's answer as the HTTP response (a dict with
`statusCode` is taken as a response; anything else is a 200 JSON body)."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.awslambda.invoke import Invoker
from dockyard.services.awslambda.model import LATEST
from dockyard.services.awslambda.urls import PREFIX, FunctionUrls, url_allowed

AsgiScope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_BODY = 6 * 1024 * 1024


def event_of(
    url_id: str, account_id: str, method: str, path: str, query: str,
    headers: list[tuple[str, str]], body: bytes, source_ip: str, now: float,
) -> dict[str, Any]:  # fmt: skip
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    params: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        params[key] = f"{params[key]},{value}" if key in params else value
    text: str | None
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": "anonymous", "apiId": url_id,
            "domainName": joined.get("host", ""), "domainPrefix": url_id,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": source_ip, "userAgent": joined.get("user-agent", "")},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }  # fmt: skip
    if cookies:
        event["cookies"] = cookies
    if params:
        event["queryStringParameters"] = params
    if body:
        event["body"] = text
    return event


def response_of(payload: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    try:
        doc = json.loads(payload) if payload.strip() else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "statusCode" in doc:
        headers = [(str(k).lower().encode(), str(v).encode())
                   for k, v in (doc.get("headers") or {}).items()]  # fmt: skip
        headers += [(b"set-cookie", str(c).encode()) for c in doc.get("cookies") or []]
        body = doc.get("body") or ""
        raw = base64.b64decode(body) if doc.get("isBase64Encoded") else str(body).encode()
        if not any(k == b"content-type" for k, _ in headers):
            headers.append((b"content-type", b"application/json"))
        return int(doc["statusCode"]), headers, raw
    return 200, [(b"content-type", b"application/json")], payload


class UrlEndpoint:
    def __init__(self, urls: FunctionUrls, invoker: Invoker) -> None:
        self.urls = urls
        self.invoker = invoker

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        rest = scope["path"][len(PREFIX) :]
        url_id, _, path = rest.partition("/")
        found = self.urls.find(url_id)
        if found is None:
            await _send(send, 404, [], b'{"Message":"Not Found"}')
            return
        fn, key = found
        if not url_allowed(fn, key):
            await _send(send, 403, [], b'{"Message":"Forbidden"}')
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                await _send(send, 413, [], b'{"Message":"Request Entity Too Large"}')
                return
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        client = scope.get("client") or ("", 0)
        event = event_of(url_id, fn.account_id, scope["method"], "/" + path,
                         scope.get("query_string", b"").decode("latin-1"), headers, body,
                         str(client[0]), time.time())  # fmt: skip
        try:
            answer = await self.invoker.invoke_sync(
                Scope(fn.account_id, fn.region), fn.name, None if key == LATEST else key,
                json.dumps(event).encode(),
            )  # fmt: skip
        except ServiceError as exc:
            status = 429 if exc.code == "TooManyRequestsException" else 502
            await _send(send, status, [], json.dumps({"Message": exc.message}).encode())
            return
        if answer.function_error:
            await _send(send, 502, [], b'{"Message":"Internal Server Error"}')
            return
        status, extra, payload = response_of(answer.payload)
        await _send(send, status, extra, payload)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    if not any(k == b"content-type" for k, _ in headers):
        headers = [*headers, (b"content-type", b"application/json")]
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
