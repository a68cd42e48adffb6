"""The registry's collector: applies ECR lifecycle policies and removes blob files that no
repository links any more, and uploads abandoned for an hour.

Woken by `Ecr.collect_soon` (images deleted, a lifecycle policy put, a push into a
repository that has one) and otherwise every `interval` seconds. Deciding what to remove
happens on the event loop; only the unlinks run in a worker thread, while the digests are
marked `collecting` so an upload of the same bytes waits and a HEAD sees them gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from dockyard.core.clock import Clock
from dockyard.services.ecr import Ecr

log = logging.getLogger(__name__)

UPLOAD_TTL = 3600.0  # seconds an upload may sit unfinished


class RegistryCollector:
    def __init__(self, ecr: Ecr, clock: Clock, interval: float = 300.0) -> None:
        self.ecr = ecr
        self.clock = clock
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self.collected = 0  # blob files removed since the start

    def start(self) -> None:
        self.ecr.collect_soon.set()  # once at start: what a crash left behind
        self._task = asyncio.create_task(self._run(), name="registry-collector")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self.ecr.collect_soon.wait()
            self.ecr.collect_soon.clear()
            try:
                await self.collect()
            except Exception:
                log.exception("registry collection failed; trying again later")
                await asyncio.sleep(5.0)

    async def collect(self) -> int:
        """One round; the number of blob files removed."""
        ecr = self.ecr
        ecr.apply_lifecycles()
        ecr.images.expire_unused_links()
        await self._drop_stale_uploads()
        on_disk = await asyncio.to_thread(ecr.blobs.digests)
        keep = ecr.images.referenced() | set(ecr.blobs.in_flight)
        doomed = [d for d in on_disk if d not in keep]
        if not doomed:
            return 0
        ecr.blobs.collecting.update(doomed)
        try:
            await asyncio.to_thread(self._remove, doomed)
        finally:
            ecr.blobs.collecting.difference_update(doomed)
        self.collected += len(doomed)
        log.info("registry collected %d unreferenced blob(s)", len(doomed))
        return len(doomed)

    def _remove(self, digests: list[str]) -> None:
        for digest in digests:
            self.ecr.blobs.remove(digest)

    async def _drop_stale_uploads(self) -> None:
        cutoff = self.clock.now() - UPLOAD_TTL
        stale = [u for u in self.ecr.blobs.uploads.values() if u.started < cutoff]
        for upload in stale:
            self.ecr.blobs.uploads.pop(upload.id, None)
            await asyncio.to_thread(self.ecr.blobs.discard, upload)
