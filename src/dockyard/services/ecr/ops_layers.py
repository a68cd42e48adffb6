"""ECR's own layer API (InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload,
GetDownloadUrlForLayer): the same uploads and blobs as the registry's, through the json
protocol. Parts come whole in the request (the front door caps bodies at 16 MiB)."""

from __future__ import annotations

import asyncio

from dockyard.api.context import RequestContext
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.errors import ServiceError
from dockyard.services.ecr import manifests
from dockyard.services.ecr.blobs import DigestMismatch, Upload
from dockyard.services.ecr.model import Repository
from dockyard.services.ecr.ops_repositories import repository_of
from dockyard.services.ecr.registry_http import MAX_UPLOADS
from dockyard.services.ecr.service import Ecr

PART_SIZE = 10 * 1024 * 1024


class UploadNotFoundException(ServiceError):
    code = "UploadNotFoundException"


class InvalidLayerPartException(ServiceError):
    code = "InvalidLayerPartException"


class InvalidLayerException(ServiceError):
    code = "InvalidLayerException"


class EmptyUploadException(ServiceError):
    code = "EmptyUploadException"


class LayerAlreadyExistsException(ServiceError):
    code = "LayerAlreadyExistsException"


class LayersNotFoundException(ServiceError):
    code = "LayersNotFoundException"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


def handlers(ecr: Ecr) -> dict[str, Handler]:
    blobs = ecr.blobs

    def upload_of(repo: Repository, params: Params) -> Upload:
        upload = blobs.uploads.get(params["uploadId"])
        if upload is None or upload.repository_arn != repo.arn:
            raise UploadNotFoundException(
                f"Upload with id '{params['uploadId']}' does not exist in the repository "
                f"'{repo.name}'"
            )
        return upload

    async def initiate_layer_upload(ctx: RequestContext, params: Params) -> Result:
        repo = repository_of(ecr, ctx, params)
        if len(blobs.uploads) >= MAX_UPLOADS:
            raise LimitExceededException("Too many layer uploads in progress")
        upload = await asyncio.to_thread(blobs.start, repo.arn, ecr.clock.now())
        blobs.uploads[upload.id] = upload
        return {"uploadId": upload.id, "partSize": PART_SIZE}

    async def upload_layer_part(ctx: RequestContext, params: Params) -> Result:
        repo = repository_of(ecr, ctx, params)
        upload = upload_of(repo, params)
        data: bytes = params["layerPartBlob"]
        first, last = params["partFirstByte"], params["partLastByte"]
        if first != upload.offset or last != first + len(data) - 1:
            raise InvalidLayerPartException(
                f"The part's bytes {first}-{last} do not follow the upload's "
                f"{upload.offset} bytes (or the blob's length {len(data)})"
            )
        await asyncio.to_thread(upload.append, data)
        return {"registryId": repo.account_id, "repositoryName": repo.name,
                "uploadId": upload.id, "lastByteReceived": upload.offset - 1}  # fmt: skip

    async def complete_layer_upload(ctx: RequestContext, params: Params) -> Result:
        repo = repository_of(ecr, ctx, params)
        upload = upload_of(repo, params)
        digests = params["layerDigests"]
        if len(digests) != 1 or not manifests.is_digest(digests[0]):
            raise InvalidLayerException("layerDigests must name the layer's one sha256 digest")
        digest = digests[0]
        if upload.offset == 0:
            raise EmptyUploadException(f"The upload {upload.id} has no bytes")
        if ecr.images.linked(repo, digest):
            blobs.uploads.pop(upload.id, None)
            await asyncio.to_thread(blobs.discard, upload)
            raise LayerAlreadyExistsException(
                f"The layer {digest} already exists in the repository '{repo.name}'"
            )
        blobs.uploads.pop(upload.id, None)
        while digest in blobs.collecting:
            await asyncio.sleep(0.02)
        blobs.in_flight[digest] = blobs.in_flight.get(digest, 0) + 1
        try:
            try:
                await asyncio.to_thread(blobs.finish, upload, digest)
            except DigestMismatch as exc:
                raise InvalidLayerException(str(exc)) from exc
            ecr.images.link(repo, digest)
        finally:
            count = blobs.in_flight.pop(digest, 1) - 1
            if count:
                blobs.in_flight[digest] = count
        return {"registryId": repo.account_id, "repositoryName": repo.name,
                "uploadId": upload.id, "layerDigest": digest}  # fmt: skip

    def get_download_url_for_layer(ctx: RequestContext, params: Params) -> Result:
        repo = repository_of(ecr, ctx, params)
        digest = params["layerDigest"]
        if not ecr.images.linked(repo, digest):
            raise LayersNotFoundException(
                f"The layer {digest} does not exist in the repository '{repo.name}'"
            )
        # The registry's own URL for it (with auth on, it takes the registry token).
        url = f"{ecr.endpoint_of(repo.scope)}/v2/{repo.name}/blobs/{digest}"
        return {"downloadUrl": url, "layerDigest": digest}

    return {
        "InitiateLayerUpload": initiate_layer_upload,
        "UploadLayerPart": upload_layer_part,
        "CompleteLayerUpload": complete_layer_upload,
        "GetDownloadUrlForLayer": get_download_url_for_layer,
    }
