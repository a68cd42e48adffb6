"""S3 object operations on the wire: parsed input -> the domain -> output shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, unquote

from dockyard.api.context import RequestContext
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.s3.blobs import Written
from dockyard.services.s3.conditions import Conditions, check_read
from dockyard.services.s3.errors import (
    EntityTooLarge,
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
)
from dockyard.services.s3.model import NULL_VERSION, ObjectVersion
from dockyard.services.s3.multipart import Multipart
from dockyard.services.s3.names import check_key, check_tags
from dockyard.services.s3.objects import MAX_PUT_BYTES, ObjectAttributes, Objects
from dockyard.services.s3.state import S3State, record

_HEADER_MEMBERS = (
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "Expires",
)
_RESPONSE_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseExpires": "Expires",
}


def attributes(params: Params) -> ObjectAttributes:
    headers: dict[str, str] = {}
    for name in _HEADER_MEMBERS:
        value = params.get(name)
        if value is not None:
            headers[name] = value.timestamp() if name == "Expires" else value
    tags = dict(parse_qsl(params["Tagging"], keep_blank_values=True)) if "Tagging" in params else {}
    return ObjectAttributes(
        content_type=params.get("ContentType"),
        metadata={k.lower(): v for k, v in (params.get("Metadata") or {}).items()},
        headers=headers,
        tags=check_tags(tags, 10),
    )


def _checksum_out(version: ObjectVersion | Mapping[str, str], out: Result) -> None:
    sums = version.checksum if isinstance(version, ObjectVersion) else version
    for algorithm, value in sums.items():
        out[f"Checksum{algorithm}"] = value


def _version_out(version: ObjectVersion, out: Result) -> None:
    if version.version_id != NULL_VERSION:
        out["VersionId"] = version.version_id


class ObjectOps:
    def __init__(self, state: S3State, objects: Objects, multipart: Multipart) -> None:
        self.state = state
        self.objects = objects
        self.multipart = multipart

    async def _receive(self, ctx: RequestContext, kind: str) -> Written:
        body = ctx.body
        if body is None:
            raise InvalidRequest("The request has no body stream")
        if body.length is not None and body.length > MAX_PUT_BYTES:
            raise EntityTooLarge("Your proposed upload exceeds the maximum allowed size")
        written = await self.objects.receive(
            body.chunks(), ctx.headers, sha256=body.expected_sha256 is not None, kind=kind
        )
        try:
            body.finish(written.sha256)
            self.objects.check_received(written, ctx.headers, body.trailers)
        except BaseException:
            await self.state.blobs.discard(written.tmp)
            raise
        return written

    async def put_object(self, ctx: RequestContext, params: Params) -> Result:
        bucket, key = params["Bucket"], check_key(params["Key"])
        self.state.bucket(bucket)  # before a byte of the body is read
        attrs = attributes(params)
        written = await self._receive(ctx, "objects")
        version = await self.objects.store(
            bucket,
            key,
            written,
            attrs,
            if_match=params.get("IfMatch"),
            if_none_match=params.get("IfNoneMatch"),
        )
        out: Result = {"ETag": version.etag}
        _version_out(version, out)
        _checksum_out(version, out)
        if version.checksum_type:
            out["ChecksumType"] = version.checksum_type
        return out

    def _conditions(self, params: Params, prefix: str = "") -> Conditions:
        return Conditions(
            if_match=params.get(f"{prefix}IfMatch"),
            if_none_match=params.get(f"{prefix}IfNoneMatch"),
            if_modified_since=params.get(f"{prefix}IfModifiedSince"),
            if_unmodified_since=params.get(f"{prefix}IfUnmodifiedSince"),
        )

    async def _read(self, ctx: RequestContext, params: Params, body: bool) -> Result:
        opened = await self.objects.open(
            params["Bucket"],
            params["Key"],
            params.get("VersionId"),
            self._conditions(params),
            ctx.headers.get("range"),
            params.get("PartNumber"),
            body=body,
        )
        version = opened.version
        out: Result = {
            "AcceptRanges": "bytes",
            "LastModified": version.last_modified,
            "ETag": version.etag,
            "ContentType": version.content_type,
            "Metadata": version.metadata,
        }
        for name, value in version.headers.items():
            out[name] = value
        _version_out(version, out)
        if version.parts is not None and params.get("PartNumber") is not None:
            out["PartsCount"] = version.parts
        if version.tags:
            out["TagCount"] = len(version.tags)
        if params.get("ChecksumMode") == "ENABLED" and opened.range is None:
            _checksum_out(version, out)
            if version.checksum_type:
                out["ChecksumType"] = version.checksum_type
        if opened.range is not None:
            start, end = opened.range
            out["ContentRange"] = f"bytes {start}-{end}/{version.size}"
            out["ContentLength"] = end - start + 1
        else:
            out["ContentLength"] = version.size
        for param, member in _RESPONSE_OVERRIDES.items():
            if params.get(param) is not None:
                out[member] = params[param]
        if opened.stream is not None:
            out["Body"] = opened.stream
        return out

    async def get_object(self, ctx: RequestContext, params: Params) -> Result:
        return await self._read(ctx, params, body=True)

    async def head_object(self, ctx: RequestContext, params: Params) -> Result:
        return await self._read(ctx, params, body=False)

    async def delete_object(self, ctx: RequestContext, params: Params) -> Result:
        version, marker = await self.objects.delete(
            params["Bucket"], params["Key"], params.get("VersionId")
        )
        out: Result = {}
        if version is not None:
            if marker:
                out["DeleteMarker"] = True
            if version.version_id != NULL_VERSION or params.get("VersionId"):
                out["VersionId"] = version.version_id
        return out

    async def delete_objects(self, ctx: RequestContext, params: Params) -> Result:
        bucket = params["Bucket"]
        self.state.bucket(bucket)
        request = params.get("Delete") or {}
        entries = request.get("Objects") or []
        if len(entries) > 1000:
            raise MalformedXML("The XML you provided was not well-formed or did not validate")
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for entry in entries:
            key, version_id = entry["Key"], entry.get("VersionId")
            try:
                version, marker = await self.objects.delete(bucket, key, version_id)
            except InvalidArgument as err:
                errors.append({"Key": key, "VersionId": version_id, "Code": err.code,
                               "Message": err.message})  # fmt: skip
                continue
            item: dict[str, Any] = {"Key": key}
            if version_id is not None:
                item["VersionId"] = version_id
            if marker and version is not None:
                item["DeleteMarker"] = True
                item["DeleteMarkerVersionId"] = version.version_id
            deleted.append(item)
        return {"Deleted": [] if request.get("Quiet") else deleted, "Errors": errors}

    async def copy_object(self, ctx: RequestContext, params: Params) -> Result:
        source_bucket, source_key, source_version = parse_copy_source(params["CopySource"])
        source = self.objects.find(source_bucket, source_key, source_version)
        check_read(self._conditions(params, "CopySource"), source.etag, source.last_modified)
        directive = params.get("MetadataDirective", "COPY")
        same = (source_bucket, source_key) == (params["Bucket"], params["Key"])
        if same and directive != "REPLACE" and source_version is None:
            raise InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes."
            )
        attrs = attributes(params) if directive == "REPLACE" else None
        if attrs is not None and params.get("TaggingDirective") != "REPLACE":
            attrs.tags = dict(source.tags)
        version = await self.objects.copy(source, params["Bucket"], params["Key"], attrs)
        out: Result = {
            "CopyObjectResult": {"ETag": version.etag, "LastModified": version.last_modified}
        }
        _version_out(version, out)
        if source.version_id != NULL_VERSION:
            out["CopySourceVersionId"] = source.version_id
        return out

    # -- tags --------------------------------------------------------------------------------

    def get_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        version = self.objects.find(params["Bucket"], params["Key"], params.get("VersionId"))
        out: Result = {"TagSet": [{"Key": k, "Value": v} for k, v in version.tags.items()]}
        _version_out(version, out)
        return out

    def put_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        version = self.objects.find(params["Bucket"], params["Key"], params.get("VersionId"))
        tag_set = (params.get("Tagging") or {}).get("TagSet") or []
        tags = check_tags({t["Key"]: t["Value"] for t in tag_set}, 10)
        self._retag(version, tags)
        out: Result = {}
        _version_out(version, out)
        return out

    def delete_object_tagging(self, ctx: RequestContext, params: Params) -> Result:
        version = self.objects.find(params["Bucket"], params["Key"], params.get("VersionId"))
        self._retag(version, {})
        out: Result = {}
        _version_out(version, out)
        return out

    def _retag(self, version: ObjectVersion, tags: dict[str, str]) -> None:
        updated = replace(version, tags=tags)
        contents = self.state.contents(version.bucket)
        self.state.commit([record(updated)], apply=lambda: contents.add(updated))

    # -- multipart ---------------------------------------------------------------------------

    def create_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        algorithm = params.get("ChecksumAlgorithm")
        upload = self.multipart.create(
            params["Bucket"], params["Key"], attributes(params), algorithm
        )
        out: Result = {"Bucket": upload.bucket, "Key": upload.key, "UploadId": upload.upload_id}
        if algorithm:
            out["ChecksumAlgorithm"] = algorithm
            out["ChecksumType"] = "COMPOSITE"
        return out

    async def upload_part(self, ctx: RequestContext, params: Params) -> Result:
        upload = self.state.upload(params["Bucket"], params["Key"], params["UploadId"])
        number = params["PartNumber"]
        if not 1 <= number <= 10_000:
            raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
        written = await self._receive(ctx, "parts")
        part = await self.multipart.add_part(upload, number, written)
        out: Result = {"ETag": part.etag}
        _checksum_out(part.checksum, out)
        return out

    async def complete_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        upload = self.state.upload(params["Bucket"], params["Key"], params["UploadId"])
        parts = (params.get("MultipartUpload") or {}).get("Parts") or []
        listed = [
            (
                p.get("PartNumber", 0),
                p.get("ETag", ""),
                {k[8:]: v for k, v in p.items() if k.startswith("Checksum")},
            )
            for p in parts
        ]
        version = await self.multipart.complete(upload, listed)
        out: Result = {
            "Location": f"/{upload.bucket}/{upload.key}",
            "Bucket": upload.bucket,
            "Key": upload.key,
            "ETag": version.etag,
        }
        _version_out(version, out)
        _checksum_out(version, out)
        if version.checksum_type:
            out["ChecksumType"] = version.checksum_type
        return out

    async def abort_multipart_upload(self, ctx: RequestContext, params: Params) -> Result:
        upload = self.state.upload(params["Bucket"], params["Key"], params["UploadId"])
        await self.multipart.abort(upload)
        return {}

    def list_multipart_uploads(self, ctx: RequestContext, params: Params) -> Result:
        bucket = params["Bucket"]
        prefix = params.get("Prefix", "")
        limit = min(max(params.get("MaxUploads", 1000), 0), 1000)
        key_marker = params.get("KeyMarker", "")
        id_marker = params.get("UploadIdMarker", "")
        found = [
            u
            for u in self.multipart.of_bucket(bucket, prefix)
            if (u.key, u.upload_id) > (key_marker, id_marker) or not key_marker
        ]
        page, more = found[:limit], len(found) > limit
        out: Result = {
            "Bucket": bucket,
            "Prefix": prefix,
            "MaxUploads": limit,
            "IsTruncated": more,
            "KeyMarker": key_marker,
            "UploadIdMarker": id_marker,
            "Uploads": [
                {
                    "UploadId": u.upload_id,
                    "Key": u.key,
                    "Initiated": u.initiated,
                    "StorageClass": "STANDARD",
                    **({"ChecksumAlgorithm": u.checksum_algorithm} if u.checksum_algorithm else {}),
                }
                for u in page
            ],
        }
        if more and page:
            out["NextKeyMarker"] = page[-1].key
            out["NextUploadIdMarker"] = page[-1].upload_id
        return out

    def list_parts(self, ctx: RequestContext, params: Params) -> Result:
        upload = self.state.upload(params["Bucket"], params["Key"], params["UploadId"])
        limit = min(max(params.get("MaxParts", 1000), 0), 1000)
        marker = params.get("PartNumberMarker", 0)
        numbers = sorted(n for n in upload.parts if n > marker)
        page, more = numbers[:limit], len(numbers) > limit
        out: Result = {
            "Bucket": upload.bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": more,
            "StorageClass": "STANDARD",
            "Parts": [
                {
                    "PartNumber": n,
                    "LastModified": upload.parts[n].last_modified,
                    "ETag": upload.parts[n].etag,
                    "Size": upload.parts[n].size,
                    **{f"Checksum{a}": v for a, v in upload.parts[n].checksum.items()},
                }
                for n in page
            ],
        }
        if page:
            out["NextPartNumberMarker"] = page[-1]
        if upload.checksum_algorithm:
            out["ChecksumAlgorithm"] = upload.checksum_algorithm
        return out

    def handlers(self) -> dict[str, Handler]:
        return {
            "PutObject": self.put_object,
            "GetObject": self.get_object,
            "HeadObject": self.head_object,
            "DeleteObject": self.delete_object,
            "DeleteObjects": self.delete_objects,
            "CopyObject": self.copy_object,
            "GetObjectTagging": self.get_object_tagging,
            "PutObjectTagging": self.put_object_tagging,
            "DeleteObjectTagging": self.delete_object_tagging,
            "CreateMultipartUpload": self.create_multipart_upload,
            "UploadPart": self.upload_part,
            "CompleteMultipartUpload": self.complete_multipart_upload,
            "AbortMultipartUpload": self.abort_multipart_upload,
            "ListMultipartUploads": self.list_multipart_uploads,
            "ListParts": self.list_parts,
        }


def parse_copy_source(text: str) -> tuple[str, str, str | None]:
    """`bucket/key[?versionId=...]` (URL-encoded, an optional leading slash)."""
    path, _, query = text.partition("?")
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise InvalidArgument("Invalid copy source object key")
    version = dict(parse_qsl(query)).get("versionId") if query else None
    return bucket, key, version
