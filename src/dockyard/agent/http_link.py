"""`ServerLink` over HTTP: how a `dockyard agent` on another host talks to the server.

link = HttpLink("http://server:4566", credentials=("AKID", "SECRET"))
arn = await link.register(registration)
...
await link.close()

Requests are SigV4-signed (service `ecs`) when credentials are given; the server requires
that when it was started with `--auth-file`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dockyard.core.agentlink import LogEvent, Registration, UnknownInstance, registration_body
from dockyard.core.agentstats import ContainerStats
from dockyard.core.orphans import OrphanReport, OrphanVerdict
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


class HttpLink:
    def __init__(
        self,
        server_url: str,
        credentials: tuple[str, str] | None = None,
        region: str = "us-east-1",
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base = server_url.rstrip("/")
        self.credentials = Credentials(*credentials) if credentials else None
        self.region = region
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT)

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, name: str, body: dict[str, Any], wait: float = 0.0) -> dict[str, Any]:
        url = f"{self.base}{PATH}{name}"
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.credentials is not None:
            request = AWSRequest(method="POST", url=url, data=payload, headers=headers)
            SigV4Auth(self.credentials, "ecs", self.region).add_auth(request)
            headers = {k: str(v) for k, v in request.headers.items()}
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
        doc = await self._call("register", registration_body(registration))
        return str(doc["containerInstanceArn"])

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

    async def orphans(
        self, instance_arn: str, reports: list[OrphanReport]
    ) -> list[OrphanVerdict]:
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
