"""The `ObjectSource` and `ObjectSink` ports answered by this server's S3: ECS reads
containers' `environmentFiles` from it, CloudWatch Logs export tasks write to it. Only the
caller's own account's buckets are reachable (no bucket policies are evaluated here yet to
grant more)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from dockyard.core.envfiles import ObjectUnavailable, parse_s3_arn
from dockyard.core.errors import ServiceError
from dockyard.services.s3 import S3
from dockyard.services.s3.objects import ObjectAttributes


class ServedObjects:
    def __init__(self, s3: S3) -> None:
        self.s3 = s3

    async def read(self, account_id: str, region: str, arn: str, limit: int) -> bytes:
        try:
            bucket_name, key = parse_s3_arn(arn)
        except ValueError as exc:
            raise ObjectUnavailable(str(exc)) from exc
        bucket = self.s3.state.buckets.get(bucket_name)
        if bucket is None or bucket.account_id != account_id:
            raise ObjectUnavailable(
                f"AccessDenied: a task of account {account_id} may not read {arn}"
                if bucket is not None
                else f"NoSuchBucket: The specified bucket does not exist: {bucket_name}"
            )
        try:
            version = self.s3.objects.find(bucket_name, key, None)
        except ServiceError as exc:
            raise ObjectUnavailable(f"{exc.code}: {exc.message}") from exc
        if version.blob is None:
            raise ObjectUnavailable(f"NoSuchKey: The specified key does not exist: {key}")
        if version.size > limit:
            raise ObjectUnavailable(f"the environment file {arn} is larger than {limit} bytes")
        fd = await self.s3.blobs.open(version.blob)
        try:
            return await self.s3.blobs.run(os.pread, fd, version.size, 0)
        finally:
            await self.s3.blobs.run(os.close, fd)

    # -- the ObjectSink port (CloudWatch Logs export tasks) ----------------------------------

    def bucket_exists(self, account_id: str, bucket: str) -> bool:
        found = self.s3.state.buckets.get(bucket)
        return found is not None and found.account_id == account_id

    async def put(
        self,
        account_id: str,
        bucket: str,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        content_encoding: str | None = None,
    ) -> None:
        if not self.bucket_exists(account_id, bucket):
            raise ObjectUnavailable("The specified bucket does not exist")
        written = await self.s3.objects.receive(chunks, {}, sha256=False, kind="objects")
        headers = {"ContentEncoding": content_encoding} if content_encoding else {}
        attrs = ObjectAttributes(content_type=content_type, headers=headers)
        try:
            await self.s3.objects.store(bucket, key, written, attrs)
        except ServiceError as exc:
            raise ObjectUnavailable(f"{exc.code}: {exc.message}") from exc
