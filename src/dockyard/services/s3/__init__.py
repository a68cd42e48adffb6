"""Amazon S3: buckets and objects, object bytes in files under the data dir, streamed."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.s3 import access
from dockyard.services.s3.ops_buckets import BucketOps
from dockyard.services.s3.ops_objects import ObjectOps
from dockyard.services.s3.service import S3
from dockyard.services.s3.state import KINDS

__all__ = ["KINDS", "S3", "provider"]


def provider(s3: S3) -> Provider:
    handlers = {
        **BucketOps(s3.state, s3.buckets).handlers(),
        **ObjectOps(s3.state, s3.objects, s3.multipart).handlers(),
    }
    return Provider(
        service="s3",
        handlers=handlers,
        validation_error_code="InvalidArgument",
        reset=s3.reset,
        access=access.access(s3.state),
        resource_policy=access.resource_policy(s3.state),
        preflight=s3.cors.preflight,
        cors=s3.cors.actual,
    )
