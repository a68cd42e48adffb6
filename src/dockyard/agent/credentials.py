"""Task role credentials on the agent: fetched from the server, kept fresh, served to the
task's containers (the metadata server answers `/v2/credentials/<id>` with them).

creds = RoleCredentials(fetch, clock)      # fetch(task_arn) -> TemporaryCredentials
await creds.get(task_arn)                 # cached while fresh, else fetched (one at a time)
creds.start(lambda: active_task_arns); ...; await creds.close()

The credentials live in memory only: a restarted agent fetches them again when a container
asks. They are refreshed once half their lifetime has passed (real ECS rotates them too), so
an SDK that refreshes ahead of the expiration (botocore: 15 minutes before) gets new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dockyard.core import timefmt
from dockyard.core.clock import Clock
from dockyard.core.rolecredentials import TemporaryCredentials

log = logging.getLogger(__name__)

Fetch = Callable[[str], Awaitable[TemporaryCredentials]]

REFRESH_CHECK = 30.0  # seconds between looks at what needs refreshing
MIN_REMAINING = 60.0  # seconds of validity below which credentials are never served


@dataclass(slots=True)
class _Held:
    credentials: TemporaryCredentials
    fetched_at: float

    def stale(self, now: float) -> bool:
        lifetime = self.credentials.expiration - self.fetched_at
        remaining = self.credentials.expiration - now
        return remaining < MIN_REMAINING or now >= self.fetched_at + lifetime / 2


def document(credentials: TemporaryCredentials) -> dict[str, Any]:
    """What botocore's container credential provider reads (as the ECS agent answers)."""
    return {
        "RoleArn": credentials.role_arn,
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "Token": credentials.session_token,
        "Expiration": timefmt.iso(credentials.expiration, "s"),
    }


class RoleCredentials:
    def __init__(self, fetch: Fetch, clock: Clock) -> None:
        self._fetch = fetch
        self.clock = clock
        self._held: dict[str, _Held] = {}
        self._fetching: dict[str, asyncio.Task[TemporaryCredentials]] = {}
        self._loop: asyncio.Task[None] | None = None

    async def get(self, task_arn: str) -> TemporaryCredentials:
        """The task's credentials, fetched from the server unless held and fresh."""
        held = self._held.get(task_arn)
        if held is not None and not held.stale(self.clock.now()):
            return held.credentials
        return await self._refresh(task_arn)

    async def _refresh(self, task_arn: str) -> TemporaryCredentials:
        running = self._fetching.get(task_arn)
        if running is None:
            running = asyncio.ensure_future(self._fetch_one(task_arn))
            self._fetching[task_arn] = running
        return await asyncio.shield(running)

    async def _fetch_one(self, task_arn: str) -> TemporaryCredentials:
        try:
            now = self.clock.now()
            credentials = await self._fetch(task_arn)
            self._held[task_arn] = _Held(credentials, now)
            return credentials
        finally:
            self._fetching.pop(task_arn, None)

    def forget(self, task_arn: str) -> None:
        self._held.pop(task_arn, None)

    # -- refreshing ------------------------------------------------------------------------

    def start(self, active: Callable[[], Iterable[str]]) -> None:
        """Keep the credentials of the tasks `active()` names fresh; let go of the others."""
        if self._loop is None:
            self._loop = asyncio.create_task(self._refresh_loop(active))

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None
        for task in list(self._fetching.values()):
            task.cancel()
        self._held.clear()

    async def refresh_due(self, active: Iterable[str]) -> None:
        """One round: drop what no active task holds, refetch what went stale."""
        keep = set(active)
        for arn in [a for a in self._held if a not in keep]:
            del self._held[arn]
        now = self.clock.now()
        for arn, held in list(self._held.items()):
            if held.stale(now):
                try:
                    await self._refresh(arn)
                except Exception as exc:  # kept until they expire; retried next round
                    log.warning("cannot refresh the role credentials of task %s: %s", arn, exc)

    async def _refresh_loop(self, active: Callable[[], Iterable[str]]) -> None:
        while True:
            await self.clock.sleep(REFRESH_CHECK)
            await self.refresh_due(active())
