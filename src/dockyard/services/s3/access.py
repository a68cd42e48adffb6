"""What S3 operations act on, for authorization: S3's own action names (which are not its
operations' names: ListObjectsV2 is `s3:ListBucket`, HeadObject is `s3:GetObject`, the
multipart calls are `s3:PutObject`), on `arn:aws:s3:::<bucket>` or
`arn:aws:s3:::<bucket>/<key>` (S3 ARNs carry no account or region), with the object's or
bucket's tags where S3 has them as condition keys. The bucket's policy is the resource
policy weighed beside the caller's own."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from urllib.parse import unquote

from dockyard.api.access import Access, AccessFunction, AccessRequest
from dockyard.core.iampolicy import Policy, PolicyError, PolicyKind, parse_policy
from dockyard.services.s3.state import S3State

log = logging.getLogger(__name__)

# operation -> (action, on: "bucket" | "object" | "*")
ACTIONS: dict[str, tuple[str, str]] = {
    "ListBuckets": ("s3:ListAllMyBuckets", "*"),
    "CreateBucket": ("s3:CreateBucket", "bucket"),
    "DeleteBucket": ("s3:DeleteBucket", "bucket"),
    "HeadBucket": ("s3:ListBucket", "bucket"),
    "GetBucketLocation": ("s3:GetBucketLocation", "bucket"),
    "GetBucketVersioning": ("s3:GetBucketVersioning", "bucket"),
    "PutBucketVersioning": ("s3:PutBucketVersioning", "bucket"),
    "GetBucketTagging": ("s3:GetBucketTagging", "bucket"),
    "PutBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "DeleteBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "GetBucketPolicy": ("s3:GetBucketPolicy", "bucket"),
    "PutBucketPolicy": ("s3:PutBucketPolicy", "bucket"),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", "bucket"),
    "GetBucketCors": ("s3:GetBucketCORS", "bucket"),
    "PutBucketCors": ("s3:PutBucketCORS", "bucket"),
    "DeleteBucketCors": ("s3:PutBucketCORS", "bucket"),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", "bucket"),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", "bucket"),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", "bucket"),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification", "bucket"),
    "PutBucketNotificationConfiguration": ("s3:PutBucketNotification", "bucket"),
    "ListObjects": ("s3:ListBucket", "bucket"),
    "ListObjectsV2": ("s3:ListBucket", "bucket"),
    "ListObjectVersions": ("s3:ListBucketVersions", "bucket"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "bucket"),
    "PutObject": ("s3:PutObject", "object"),
    "GetObject": ("s3:GetObject", "object"),
    "HeadObject": ("s3:GetObject", "object"),
    "DeleteObject": ("s3:DeleteObject", "object"),
    "DeleteObjects": ("s3:DeleteObject", "object"),
    "CopyObject": ("s3:PutObject", "object"),
    "GetObjectTagging": ("s3:GetObjectTagging", "object"),
    "PutObjectTagging": ("s3:PutObjectTagging", "object"),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", "object"),
    "CreateMultipartUpload": ("s3:PutObject", "object"),
    "UploadPart": ("s3:PutObject", "object"),
    "CompleteMultipartUpload": ("s3:PutObject", "object"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "object"),
    "ListParts": ("s3:ListMultipartUploadParts", "object"),
}


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _copy_source(source: object) -> tuple[str, str] | None:
    """CopySource as botocore sends it: `bucket/key[?versionId=...]` (URL-encoded)."""
    if not isinstance(source, str):
        return None
    text = unquote(source.split("?", 1)[0]).lstrip("/")
    bucket, sep, key = text.partition("/")
    return (bucket, key) if sep and bucket and key else None


def access(state: S3State) -> AccessFunction:
    def object_tags(bucket: str, key: str) -> dict[str, str] | None:
        objects = state.objects.get(bucket)
        current = objects.current(key) if objects is not None else None
        return dict(current.tags) if current is not None else None

    def resolve(req: AccessRequest) -> Sequence[Access]:
        found = ACTIONS.get(req.operation)
        if found is None:
            return [Access(f"s3:{req.operation}", "*")]
        action, on = found
        bucket = str(req.params.get("Bucket", ""))
        if on == "*" or not bucket:
            return [Access(action, "*")]
        if on == "bucket":
            return [Access(action, bucket_arn(bucket))]
        if req.operation == "DeleteObjects":
            keys = [
                str(o.get("Key", ""))
                for o in (req.params.get("Delete") or {}).get("Objects", [])
                if isinstance(o, dict)
            ]
            return [Access("s3:DeleteObject", object_arn(bucket, k)) for k in keys]
        key = str(req.params.get("Key", ""))
        out = [Access(action, object_arn(bucket, key))]
        if req.operation in ("GetObject", "HeadObject", "GetObjectTagging"):
            tags = object_tags(bucket, key) or {}
            existing = {f"s3:existingobjecttag/{k.lower()}": [v] for k, v in tags.items()}
            out = [Access(action, object_arn(bucket, key), context=existing)]
        if req.operation == "CopyObject":
            source = _copy_source(req.params.get("CopySource"))
            if source is not None:
                out.append(Access("s3:GetObject", object_arn(*source)))
        return out

    return resolve


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Policy | None:
    try:
        return parse_policy(text, PolicyKind.RESOURCE)
    except (PolicyError, ValueError):
        return None


def resource_policy(state: S3State) -> Callable[[AccessRequest], Policy | None]:
    """The bucket policy of the bucket a request names, parsed once per text (None: none,
    or one that does not parse as IAM parses a resource policy: then it is not weighed)."""

    def find(req: AccessRequest) -> Policy | None:
        bucket = state.buckets.get(str(req.params.get("Bucket", "")))
        if bucket is None or not bucket.policy:
            return None
        policy = _parsed(bucket.policy)
        if policy is None:
            log.warning("bucket %s has a policy that does not parse; not weighed", bucket.name)
        return policy

    return find
