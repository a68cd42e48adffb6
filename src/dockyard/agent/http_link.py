"""`ServerLink` over HTTP: how a `dockyard agent` on another host talks to the server.

link = HttpLink("https://server:4566", join_token=token, identity_file=path, ca=ca_file)
arn = await link.register(registration)
...
await link.close()

The agent registers with a join token (required when the server has `--auth-file`) and the
server answers with the agent's own credential, bound to its container instance: the link
keeps it in `identity_file` (mode 0600), so a restarted agent is the same instance, and sends
it with every call. With `ca`, the server's TLS certificate must chain to that CA.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from pathlib import Path
from typing import Any

import httpx

from dockyard.core.agentlink import LogEvent, Registration, UnknownInstance, registration_body
from dockyard.core.agentstats import ContainerStats
from dockyard.core.orphans import OrphanReport, OrphanVerdict
from dockyard.core.rolecredentials import TemporaryCredentials
from dockyard.core.taskspec import Assignment, TaskStatus

log = logging.getLogger(__name__)

PATH = "/_dockyard/agent/v1/"
TIMEOUT = 30.0  # seconds for a call, on top of a long poll's wait


class LinkError(Exception):
    """The server answered a call with an error (other than an unknown instance)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message} (HTTP {status})")
        self.status = status
        self.code = code
        self.message = message


class UntrustedServer(Exception):
    """The server's TLS certificate does not verify against the CA the agent was given."""


def tls_verify(ca: Path | None) -> ssl.SSLContext | bool:
    """What httpx verifies the server with: the `ca` file's certificates, else the system's."""
    if ca is None:
        return True
    return ssl.create_default_context(cafile=str(ca))


def untrusted(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind `exc`, if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def untrusted_message(server: str, ca: Path | None, failure: ssl.SSLCertVerificationError) -> str:
    against = f"the given CA ({ca})" if ca else "the system's CAs (give the server's CA with --ca)"
    return (
        f"the server {server} presented a certificate that does not verify against {against}: "
        f"{failure.verify_message or failure}"
    )


def read_identity(path: Path) -> tuple[str, str] | None:
    """The (instance ARN, credential) an agent keeps, or None."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    arn, secret = data.get("containerInstanceArn"), data.get("credential")
    return (arn, secret) if isinstance(arn, str) and isinstance(secret, str) else None


def write_identity(path: Path, arn: str, secret: str) -> None:
    """Keep the agent's credential, readable by its owner only (written whole, then moved)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        json.dump({"containerInstanceArn": arn, "credential": secret}, out)
    os.replace(tmp, path)


class HttpLink:
    def __init__(
        self,
        server_url: str,
        *,
        join_token: str | None = None,
        identity_file: Path | None = None,
        ca: Path | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base = server_url.rstrip("/")
        self.join_token = join_token
        self.identity_file = identity_file
        self.identity = read_identity(identity_file) if identity_file else None
        self.ca = ca
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT, verify=tls_verify(ca))

    async def close(self) -> None:
        await self._client.aclose()

    async def check_server(self) -> None:
        """Raise `UntrustedServer` when the server's certificate does not verify; any other
        trouble (not up yet, unreachable) is left to the agent's retries."""
        try:
            await self._client.get(f"{self.base}/_dockyard/health", timeout=10.0)
        except httpx.HTTPError as exc:
            failure = untrusted(exc)
            if failure is not None:
                raise UntrustedServer(untrusted_message(self.base, self.ca, failure)) from exc

    async def _call(self, name: str, body: dict[str, Any], wait: float = 0.0) -> dict[str, Any]:
        url = f"{self.base}{PATH}{name}"
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.identity is not None:
            headers["Authorization"] = f"Bearer {self.identity[1]}"
            headers["X-Dockyard-Instance"] = self.identity[0]
        response = await self._client.post(
            url, content=payload, headers=headers, timeout=TIMEOUT + wait
        )
        try:
            doc = response.json()
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        if response.status_code == 200:
            return doc
        code = str(doc.get("__type") or "Error")
        message = str(doc.get("message") or response.text[:200])
        if response.status_code == 404 and code == "UnknownInstance":
            raise UnknownInstance(message)
        raise LinkError(response.status_code, code, message)

    async def register(self, registration: Registration) -> str:
        body = registration_body(registration)
        if self.join_token:
            body["joinToken"] = self.join_token
        doc = await self._call("register", body)
        arn = str(doc["containerInstanceArn"])
        secret = doc.get("agentCredential")
        if isinstance(secret, str) and secret:
            self.identity = (arn, secret)
            if self.identity_file is not None:
                write_identity(self.identity_file, arn, secret)
        return arn

    async def heartbeat(self, instance_arn: str) -> None:
        await self._call("heartbeat", {"containerInstanceArn": instance_arn})

    async def assignments(self, instance_arn: str, wait: float) -> list[Assignment]:
        doc = await self._call(
            "assignments", {"containerInstanceArn": instance_arn, "wait": wait}, wait=wait
        )
        return [Assignment.from_dict(a) for a in doc.get("assignments", [])]

    async def report(self, instance_arn: str, statuses: list[TaskStatus]) -> None:
        await self._call(
            "report",
            {"containerInstanceArn": instance_arn, "statuses": [s.to_dict() for s in statuses]},
        )

    async def task_credentials(self, instance_arn: str, task_arn: str) -> TemporaryCredentials:
        doc = await self._call(
            "credentials", {"containerInstanceArn": instance_arn, "taskArn": task_arn}
        )
        return TemporaryCredentials.from_dict(doc["credentials"])

    async def put_logs(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: list[LogEvent],
        create_group: bool,
    ) -> None:
        await self._call(
            "logs",
            {
                "accountId": account_id,
                "region": region,
                "group": group,
                "stream": stream,
                "events": [{"timestamp_ms": e.timestamp_ms, "message": e.message} for e in events],
                "createGroup": create_group,
            },
        )

    async def orphans(self, instance_arn: str, reports: list[OrphanReport]) -> list[OrphanVerdict]:
        doc = await self._call(
            "orphans",
            {"containerInstanceArn": instance_arn, "tasks": [r.to_dict() for r in reports]},
        )
        return [OrphanVerdict.from_dict(v) for v in doc.get("verdicts", [])]

    async def report_stats(self, instance_arn: str, stats: list[ContainerStats]) -> None:
        await self._call(
            "stats",
            {"containerInstanceArn": instance_arn, "stats": [s.to_dict() for s in stats]},
        )
