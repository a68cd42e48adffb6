"""How a service writes an object to S3 without importing S3 (CloudWatch Logs export
tasks). `ObjectSink.put` streams the bytes into a new object of a bucket of the caller's
account, or raises `ObjectUnavailable` (from `core.envfiles`) saying why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class ObjectSink(Protocol):
    def bucket_exists(self, account_id: str, bucket: str) -> bool: ...

    async def put(
        self,
        account_id: str,
        bucket: str,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        content_encoding: str | None = None,
    ) -> None: ...
