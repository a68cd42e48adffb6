"""An HTTP endpoint subscribed to an SNS topic, as a user's web app would be: it records each
POST (headers and body) and answers with a chosen status; and the check a subscriber makes of
a message's signature with the certificate at SigningCertURL."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
}  # fmt: skip


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def doc(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Subscriber:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[Received] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                owner.received.append(Received({k.lower(): v for k, v in self.headers.items()},
                                               body))  # fmt: skip
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Subscriber:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def of_type(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.headers.get("x-amz-sns-message-type") == kind]


def signature_valid(doc: dict[str, Any]) -> bool:
    """Verify as the AWS docs tell subscribers to: fetch SigningCertURL, rebuild the string
    to sign, check the RSA signature (SHA1 for SignatureVersion 1, SHA256 for 2)."""
    with urllib.request.urlopen(doc["SigningCertURL"], timeout=10) as resp:
        cert = x509.load_pem_x509_certificate(resp.read())
    text = "".join(f"{k}\n{doc[k]}\n" for k in SIGNED[doc["Type"]] if k in doc)
    algorithm = hashes.SHA256() if doc["SignatureVersion"] == "2" else hashes.SHA1()
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(base64.b64decode(doc["Signature"]), text.encode(), padding.PKCS1v15(), algorithm)
    except Exception:
        return False
    return True
