"""Plain HTTP requests, for what botocore would refuse to send."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> Reply:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def json_call(url: str, target: str, body: bytes | dict[str, Any]) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request(
        url,
        "POST",
        "/",
        raw,
        {
            "X-Amz-Target": target,
            "Content-Type": "application/x-amz-json-1.1",
        },
    )


def scope_header(service: str, key: str = "AKIDEXAMPLE", region: str = "us-east-1") -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0000"
    )
