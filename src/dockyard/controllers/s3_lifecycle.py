"""S3 lifecycle expiration: a level-triggered sweep of the buckets that have lifecycle rules,
every `check_every` seconds of the injected clock (so `--time-scale` shortens the days).
Each sweep observes the bucket, asks the pure `s3_lifecycle_plan.plan` what is due now and
applies it through the S3 domain (the same unit of work as a user's DeleteObject)."""

from __future__ import annotations

import logging

from dockyard.controllers.runtime import Runtime
from dockyard.controllers.s3_lifecycle_plan import PendingUpload, Version, plan
from dockyard.core.clock import Clock
from dockyard.services.s3.service import S3

log = logging.getLogger(__name__)

CHECK_EVERY = 3600.0  # S3 applies lifecycle rules asynchronously, about daily
KEY = "s3"


def observe(s3: S3, bucket: str) -> tuple[list[Version], list[PendingUpload]]:
    contents = s3.state.contents(bucket)
    versions: list[Version] = []
    for key in contents.keys:
        history = contents.history(key)
        for i, v in enumerate(history):
            versions.append(
                Version(
                    key=key,
                    version_id=v.version_id,
                    last_modified=v.last_modified,
                    size=v.size,
                    tags=v.tags,
                    is_latest=i == 0,
                    delete_marker=v.delete_marker,
                    noncurrent_since=history[i - 1].last_modified if i else None,
                    only_version=len(history) == 1,
                )
            )
    uploads = [
        PendingUpload(u.upload_id, u.key, u.initiated) for u in s3.multipart.of_bucket(bucket)
    ]
    return versions, uploads


class LifecycleController:
    def __init__(self, s3: S3, clock: Clock, *, check_every: float = CHECK_EVERY) -> None:
        self.s3 = s3
        self.clock = clock
        self.check_every = check_every
        self.runtime = Runtime("s3-lifecycle", self.reconcile, clock, workers=1)

    def start(self) -> None:
        self.runtime.start()
        self.runtime.enqueue(KEY)

    async def stop(self) -> None:
        await self.runtime.stop()

    async def reconcile(self, key: str) -> float:
        await self.sweep()
        return self.check_every

    async def sweep(self) -> int:
        """Apply what is due now in every bucket with rules; how many changes were made."""
        changes = 0
        for bucket in list(self.s3.state.buckets.values()):
            if not bucket.lifecycle:
                continue
            versions, uploads = observe(self.s3, bucket.name)
            decided = plan(bucket.lifecycle, versions, uploads, self.clock.now())
            for object_key in decided.expire:
                await self.s3.objects.delete(bucket.name, object_key, None)
            for object_key, version_id in decided.delete_versions:
                await self.s3.objects.delete(bucket.name, object_key, version_id)
            for upload_id in decided.abort:
                upload = self.s3.state.uploads.get(upload_id)
                if upload is not None:
                    await self.s3.multipart.abort(upload)
            done = len(decided.expire) + len(decided.delete_versions) + len(decided.abort)
            if done:
                log.info("lifecycle of bucket %s: %d expirations", bucket.name, done)
            changes += done
        return changes
