"""`dockyard join-token`: an operator asks the server for a token an agent joins a cluster with,
lists the tokens of their account, or revokes one.

Calls are SigV4-signed (service `ecs`) with the caller's AWS credentials (the usual chain:
$AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY, ~/.aws), which a server with `--auth-file`
requires; a token belongs to the signer's account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.session import Session

from dockyard.agent.http_link import (
    PATH,
    UntrustedServer,
    tls_verify,
    untrusted,
    untrusted_message,
)


class JoinTokenError(Exception):
    """The server refused, or could not be reached; the message says why."""


def call(
    server: str, name: str, body: dict[str, Any], *, region: str, ca: Path | None = None
) -> dict[str, Any]:
    url = f"{server.rstrip('/')}{PATH}{name}"
    payload = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    credentials = Session().get_credentials()
    if credentials is not None:
        request = AWSRequest(method="POST", url=url, data=payload, headers=headers)
        SigV4Auth(credentials.get_frozen_credentials(), "ecs", region).add_auth(request)
        headers = {k: str(v) for k, v in request.headers.items()}
    try:
        with httpx.Client(verify=tls_verify(ca), timeout=30.0) as client:
            response = client.post(url, content=payload, headers=headers)
    except httpx.HTTPError as exc:
        failure = untrusted(exc)
        if failure is not None:
            raise UntrustedServer(untrusted_message(server, ca, failure)) from exc
        raise JoinTokenError(f"cannot reach the server {server}: {exc}") from exc
    try:
        doc = response.json()
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    if response.status_code != 200:
        code = doc.get("__type") or f"HTTP {response.status_code}"
        raise JoinTokenError(f"{code}: {doc.get('message') or response.text[:200]}")
    return doc
