"""S3 bucket operations and listings on the wire."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import quote

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.protocols.rest import RAW_BODY
from dockyard.api.protocols.xml import xml_text
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.s3.buckets import US_EAST_1, Buckets
from dockyard.services.s3.errors import (
    InvalidArgument,
    NoSuchBucketPolicy,
    NoSuchCORSConfiguration,
    NoSuchLifecycleConfiguration,
    NoSuchTagSet,
)
from dockyard.services.s3.listing import list_keys, list_versions
from dockyard.services.s3.model import ObjectVersion
from dockyard.services.s3.state import S3State

OWNER = "dockyard"
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _owner(account_id: str) -> dict[str, str]:
    return {"DisplayName": OWNER, "ID": account_id}


def _max_keys(params: Params) -> int:
    value = int(params.get("MaxKeys", 1000))
    if value < 0:
        raise InvalidArgument("maxKeys should be non-negative")
    return min(value, 1000)


def _encode(params: Params, text: str) -> str:
    if params.get("EncodingType") == "url":
        return quote(text, safe="/")
    return text


def _token(resume: str) -> str:
    return base64.urlsafe_b64encode(resume.encode("utf-8")).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidArgument("The continuation token provided is incorrect") from None


def _content(params: Params, version: ObjectVersion, owner: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Key": _encode(params, version.key),
        "LastModified": version.last_modified,
        "ETag": version.etag,
        "Size": version.size,
        "StorageClass": "STANDARD",
    }
    if version.checksum:
        item["ChecksumAlgorithm"] = list(version.checksum)
        if version.checksum_type:
            item["ChecksumType"] = version.checksum_type
    if owner is not None:
        item["Owner"] = _owner(owner)
    return item


class BucketOps:
    def __init__(self, state: S3State, buckets: Buckets) -> None:
        self.state = state
        self.buckets = buckets

    # -- buckets -----------------------------------------------------------------------------

    def create_bucket(self, ctx: RequestContext, params: Params) -> Result:
        config = params.get("CreateBucketConfiguration") or {}
        bucket = self.buckets.create(
            scope_of(ctx), params["Bucket"], config.get("LocationConstraint")
        )
        return {"Location": f"/{bucket.name}"}

    def delete_bucket(self, ctx: RequestContext, params: Params) -> Result:
        self.buckets.delete(params["Bucket"])
        return {}

    def head_bucket(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.state.bucket(params["Bucket"])
        return {"BucketRegion": bucket.region}

    def list_buckets(self, ctx: RequestContext, params: Params) -> Result:
        found = self.buckets.of_account(ctx.account_id)
        prefix = params.get("Prefix")
        if prefix:
            found = [b for b in found if b.name.startswith(prefix)]
        return {
            "Buckets": [
                {"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region} for b in found
            ],
            "Owner": _owner(ctx.account_id),
        }

    def get_bucket_location(self, ctx: RequestContext, params: Params) -> Result:
        region = self.state.bucket(params["Bucket"]).region
        # S3 answers a bare element, empty for us-east-1.
        text = "" if region == US_EAST_1 else xml_text(region)
        doc = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<LocationConstraint xmlns="{S3_NS}">{text}</LocationConstraint>'
        )
        return {RAW_BODY: doc.encode("utf-8")}

    def get_bucket_versioning(self, ctx: RequestContext, params: Params) -> Result:
        status = self.state.bucket(params["Bucket"]).versioning
        return {"Status": status} if status else {}

    def put_bucket_versioning(self, ctx: RequestContext, params: Params) -> Result:
        config = params.get("VersioningConfiguration") or {}
        self.buckets.set_versioning(params["Bucket"], config.get("Status"))
        return {}

    def get_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        tags = self.state.bucket(params["Bucket"]).tags
        if not tags:
            raise NoSuchTagSet("The TagSet does not exist")
        return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}

    def put_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        tag_set = (params.get("Tagging") or {}).get("TagSet") or []
        self.buckets.set_tags(params["Bucket"], {t["Key"]: t["Value"] for t in tag_set})
        return {}

    def delete_bucket_tagging(self, ctx: RequestContext, params: Params) -> Result:
        self.buckets.update(params["Bucket"], tags={})
        return {}

    def get_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        policy = self.state.bucket(params["Bucket"]).policy
        if policy is None:
            raise NoSuchBucketPolicy("The bucket policy does not exist")
        return {"Policy": policy}

    def put_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        self.buckets.set_policy(params["Bucket"], params.get("Policy") or "")
        return {}

    def delete_bucket_policy(self, ctx: RequestContext, params: Params) -> Result:
        self.buckets.update(params["Bucket"], policy=None)
        return {}

    def get_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        rules = self.state.bucket(params["Bucket"]).cors
        if not rules:
            raise NoSuchCORSConfiguration("The CORS configuration does not exist")
        return {"CORSRules": rules}

    def put_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        rules = (params.get("CORSConfiguration") or {}).get("CORSRules") or []
        self.buckets.update(params["Bucket"], cors=rules)
        return {}

    def delete_bucket_cors(self, ctx: RequestContext, params: Params) -> Result:
        self.buckets.update(params["Bucket"], cors=None)
        return {}

    def get_bucket_lifecycle_configuration(self, ctx: RequestContext, params: Params) -> Result:
        rules = self.state.bucket(params["Bucket"]).lifecycle
        if not rules:
            raise NoSuchLifecycleConfiguration("The lifecycle configuration does not exist")
        return {"Rules": rules}

    def put_bucket_lifecycle_configuration(self, ctx: RequestContext, params: Params) -> Result:
        rules = (params.get("LifecycleConfiguration") or {}).get("Rules") or []
        for rule in rules:
            expiration = rule.get("Expiration") or {}
            if "Date" in expiration:
                expiration["Date"] = expiration["Date"].timestamp()
        self.buckets.update(params["Bucket"], lifecycle=rules)
        return {}

    def delete_bucket_lifecycle(self, ctx: RequestContext, params: Params) -> Result:
        self.buckets.update(params["Bucket"], lifecycle=None)
        return {}

    def get_bucket_notification_configuration(self, ctx: RequestContext, params: Params) -> Result:
        bucket = self.state.bucket(params["Bucket"])
        return {"EventBridgeConfiguration": {}} if bucket.eventbridge else {}

    def put_bucket_notification_configuration(self, ctx: RequestContext, params: Params) -> Result:
        config = params.get("NotificationConfiguration") or {}
        for other in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations"):
            if config.get(other):
                raise InvalidArgument(
                    f"{other} are not supported by this server: use EventBridgeConfiguration"
                )
        self.buckets.update(params["Bucket"], eventbridge="EventBridgeConfiguration" in config)
        return {}

    # -- listings ----------------------------------------------------------------------------

    def list_objects_v2(self, ctx: RequestContext, params: Params) -> Result:
        name = params["Bucket"]
        contents = self.state.contents(name)
        prefix = params.get("Prefix", "")
        delimiter = params.get("Delimiter", "")
        token = params.get("ContinuationToken")
        after = _untoken(token) if token else params.get("StartAfter", "")
        limit = _max_keys(params)

        def visible(key: str) -> bool:
            current = contents.current(key)
            return current is not None and not current.delete_marker

        page = list_keys(
            contents.keys, visible, prefix=prefix, delimiter=delimiter, after=after, max_keys=limit
        )
        owner = ctx.account_id if params.get("FetchOwner") else None
        out: Result = {
            "Name": name,
            "Prefix": _encode(params, prefix),
            "MaxKeys": limit,
            "KeyCount": len(page.keys) + len(page.prefixes),
            "IsTruncated": page.truncated,
            "Contents": [
                _content(params, v, owner)
                for v in (contents.current(k) for k in page.keys)
                if v is not None
            ],
            "CommonPrefixes": [{"Prefix": _encode(params, p)} for p in page.prefixes],
        }
        if delimiter:
            out["Delimiter"] = _encode(params, delimiter)
        if params.get("EncodingType"):
            out["EncodingType"] = params["EncodingType"]
        if token:
            out["ContinuationToken"] = token
        if "StartAfter" in params:
            out["StartAfter"] = _encode(params, params["StartAfter"])
        if page.truncated and page.last is not None:
            out["NextContinuationToken"] = _token(page.last)
        return out

    def list_objects(self, ctx: RequestContext, params: Params) -> Result:
        name = params["Bucket"]
        contents = self.state.contents(name)
        prefix = params.get("Prefix", "")
        delimiter = params.get("Delimiter", "")
        marker = params.get("Marker", "")
        limit = _max_keys(params)

        def visible(key: str) -> bool:
            current = contents.current(key)
            return current is not None and not current.delete_marker

        page = list_keys(
            contents.keys, visible, prefix=prefix, delimiter=delimiter, after=marker, max_keys=limit
        )
        out: Result = {
            "Name": name,
            "Prefix": _encode(params, prefix),
            "Marker": _encode(params, marker),
            "MaxKeys": limit,
            "IsTruncated": page.truncated,
            "Contents": [
                _content(params, v, ctx.account_id)
                for v in (contents.current(k) for k in page.keys)
                if v is not None
            ],
            "CommonPrefixes": [{"Prefix": _encode(params, p)} for p in page.prefixes],
        }
        if delimiter:
            out["Delimiter"] = _encode(params, delimiter)
            if page.truncated and page.last is not None:
                out["NextMarker"] = _encode(params, page.last)
        if params.get("EncodingType"):
            out["EncodingType"] = params["EncodingType"]
        return out

    def list_object_versions(self, ctx: RequestContext, params: Params) -> Result:
        name = params["Bucket"]
        contents = self.state.contents(name)
        prefix = params.get("Prefix", "")
        key_marker = params.get("KeyMarker", "")
        page = list_versions(
            contents.keys,
            contents.history,
            prefix=prefix,
            delimiter=params.get("Delimiter", ""),
            key_marker=key_marker,
            version_marker=params.get("VersionIdMarker", ""),
            max_keys=_max_keys(params),
        )
        versions: list[dict[str, Any]] = []
        markers: list[dict[str, Any]] = []
        for v in page.versions:
            latest = contents.current(v.key) is v
            if v.delete_marker:
                markers.append({"Key": _encode(params, v.key), "VersionId": v.version_id,
                                "IsLatest": latest, "LastModified": v.last_modified,
                                "Owner": _owner(ctx.account_id)})  # fmt: skip
            else:
                item = _content(params, v, ctx.account_id)
                item.update(VersionId=v.version_id, IsLatest=latest)
                versions.append(item)
        out: Result = {
            "Name": name,
            "Prefix": _encode(params, prefix),
            "KeyMarker": _encode(params, key_marker),
            "VersionIdMarker": params.get("VersionIdMarker", ""),
            "MaxKeys": _max_keys(params),
            "IsTruncated": page.truncated,
            "Versions": versions,
            "DeleteMarkers": markers,
            "CommonPrefixes": [{"Prefix": _encode(params, p)} for p in page.prefixes],
        }
        if params.get("Delimiter"):
            out["Delimiter"] = _encode(params, params["Delimiter"])
        if page.truncated:
            out["NextKeyMarker"] = _encode(params, page.next_key or "")
            if page.next_version:
                out["NextVersionIdMarker"] = page.next_version
        if params.get("EncodingType"):
            out["EncodingType"] = params["EncodingType"]
        return out

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateBucket": self.create_bucket,
            "DeleteBucket": self.delete_bucket,
            "HeadBucket": self.head_bucket,
            "ListBuckets": self.list_buckets,
            "GetBucketLocation": self.get_bucket_location,
            "GetBucketVersioning": self.get_bucket_versioning,
            "PutBucketVersioning": self.put_bucket_versioning,
            "GetBucketTagging": self.get_bucket_tagging,
            "PutBucketTagging": self.put_bucket_tagging,
            "DeleteBucketTagging": self.delete_bucket_tagging,
            "GetBucketPolicy": self.get_bucket_policy,
            "PutBucketPolicy": self.put_bucket_policy,
            "DeleteBucketPolicy": self.delete_bucket_policy,
            "GetBucketCors": self.get_bucket_cors,
            "PutBucketCors": self.put_bucket_cors,
            "DeleteBucketCors": self.delete_bucket_cors,
            "GetBucketLifecycleConfiguration": self.get_bucket_lifecycle_configuration,
            "PutBucketLifecycleConfiguration": self.put_bucket_lifecycle_configuration,
            "DeleteBucketLifecycle": self.delete_bucket_lifecycle,
            "GetBucketNotificationConfiguration": self.get_bucket_notification_configuration,
            "PutBucketNotificationConfiguration": self.put_bucket_notification_configuration,
            "ListObjectsV2": self.list_objects_v2,
            "ListObjects": self.list_objects,
            "ListObjectVersions": self.list_object_versions,
        }
