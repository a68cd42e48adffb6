"""Signing requests as an AWS SDK would, at a chosen time or with chosen signed headers,
and sending them as raw HTTP (the tests of tests/security/test_sigv4.py and
test_front_door_limits.py)."""

from __future__ import annotations

import datetime
import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import urllib3
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY = ("AKIDSECURITY", "security-secret")
SCOPED_KEY = ("AKIDSCOPED", "scoped-secret")
SCOPED_ACCOUNT = "123456789012"
REGION = "us-east-1"

_http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=60))


def write_auth_file(path: Path) -> Path:
    path.write_text(
        "# two-column keys act in the default account; a third column scopes a key\n"
        f"{KEY[0]} {KEY[1]}\n"
        f"{SCOPED_KEY[0]} {SCOPED_KEY[1]} {SCOPED_ACCOUNT}\n"
    )
    return path


class SignedAt(SigV4Auth):
    """botocore's SigV4 signer with the clock set to `when` and some headers left unsigned."""

    def __init__(
        self,
        credentials: tuple[str, str],
        service: str,
        when: datetime.datetime,
        unsigned: tuple[str, ...] = (),
    ) -> None:
        super().__init__(Credentials(*credentials), service, REGION)
        self.when = when
        self.unsigned = unsigned

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = self.when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        self._inject_signature_to_request(
            request, self.signature(self.string_to_sign(request, canonical), request)
        )

    def headers_to_sign(self, request: AWSRequest) -> Any:
        headers = super().headers_to_sign(request)
        for name in self.unsigned:
            del headers[name]
        return headers


class PresignedAt(SigV4QueryAuth):
    def __init__(
        self,
        credentials: tuple[str, str],
        service: str,
        when: datetime.datetime,
        expires: int,
    ) -> None:
        super().__init__(Credentials(*credentials), service, REGION, expires=expires)
        self.when = when

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = self.when.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        self._inject_signature_to_request(
            request, self.signature(self.string_to_sign(request, canonical), request)
        )


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str:
        """The AWS error code, in whichever protocol the server answered."""
        if self.body.startswith(b"<"):
            root = ElementTree.fromstring(self.body)
            for el in root.iter():
                if el.tag.rsplit("}", 1)[-1] == "Code":
                    return el.text or ""
            return ""
        return str(self.json().get("__type", ""))

    @property
    def message(self) -> str:
        if self.body.startswith(b"<"):
            root = ElementTree.fromstring(self.body)
            for el in root.iter():
                if el.tag.rsplit("}", 1)[-1] == "Message":
                    return el.text or ""
            return ""
        return str(self.json().get("message", ""))


def sign(
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    service: str,
    *,
    credentials: tuple[str, str] = KEY,
    when: datetime.datetime | None = None,
    unsigned: tuple[str, ...] = (),
) -> dict[str, str]:
    """The request's headers with a SigV4 Authorization (and X-Amz-Date) added."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SignedAt(credentials, service, when or now(), unsigned).add_auth(request)
    return dict(request.headers.items())


def presign(
    url: str,
    service: str,
    *,
    when: datetime.datetime,
    expires: int,
    credentials: tuple[str, str] = KEY,
) -> str:
    request = AWSRequest(method="GET", url=url)
    PresignedAt(credentials, service, when, expires).add_auth(request)
    return str(request.url)


def send(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Reply:
    resp = _http.request(method, url, body=body, headers=headers or {})
    return Reply(resp.status, dict(resp.headers), resp.data)


def ecs_call(
    endpoint: str, operation: str, doc: dict[str, Any], **signing: Any
) -> tuple[str, bytes, dict[str, str]]:
    """An ECS (awsJson 1.1) request: its url, body and signed headers."""
    body = json.dumps(doc).encode()
    headers = {
        "X-Amz-Target": f"AmazonEC2ContainerServiceV20141113.{operation}",
        "Content-Type": "application/x-amz-json-1.1",
    }
    url = f"{endpoint}/"
    return url, body, sign("POST", url, body, headers, "ecs", **signing)


def elbv2_call(endpoint: str, form: str, **signing: Any) -> tuple[str, bytes, dict[str, str]]:
    """An ELBv2 (query protocol) request: its url, form body and signed headers."""
    body = form.encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    url = f"{endpoint}/"
    return url, body, sign("POST", url, body, headers, "elasticloadbalancing", **signing)


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def raw_exchange(port: int, head: bytes, body_chunks: Any = (), timeout: float = 30.0) -> bytes:
    """Send a request head, then body chunks for as long as the server reads them; return
    whatever the server answered (its status line and body), read until it closes or a
    deadline."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
                if time.monotonic() > deadline:
                    break
        except OSError:
            pass  # the server answered and closed: what we want to read now
        received = b""
        sock.settimeout(5)
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            received += data
            if b"\r\n\r\n" in received:
                header, _, rest = received.partition(b"\r\n\r\n")
                for line in header.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:") and len(rest) >= int(
                        line.split(b":")[1]
                    ):
                        return received
        return received


def status_of(raw: bytes) -> int:
    assert raw.startswith(b"HTTP/1.1 "), raw[:200]
    return int(raw.split(b" ", 2)[1])
