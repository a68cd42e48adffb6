"""Image operations: request in, domain call, output out."""

from __future__ import annotations

from dockyard.api.context import RequestContext
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.ecr import manifests, wire
from dockyard.services.ecr.errors import ImageNotFoundException, InvalidParameterException
from dockyard.services.ecr.model import Image, Repository, TagStatus
from dockyard.services.ecr.ops_repositories import repository_of
from dockyard.services.ecr.service import Ecr

MAX_IDS = 100


def tag_status(params: Params) -> TagStatus:
    value = (params.get("filter") or {}).get("tagStatus")
    return TagStatus(value) if value else TagStatus.ANY


def wanted(image: Image, status: TagStatus) -> bool:
    if status == TagStatus.TAGGED:
        return bool(image.tags)
    if status == TagStatus.UNTAGGED:
        return not image.tags
    return True


def handlers(ecr: Ecr) -> dict[str, Handler]:
    def get(ctx: RequestContext, params: Params) -> Repository:
        return repository_of(ecr, ctx, params)

    def find(repo: Repository, image_id: Params) -> tuple[Image | None, str | None, str | None]:
        """The image an imageId names, or None with the failure code and reason."""
        digest, tag = image_id.get("imageDigest"), image_id.get("imageTag")
        if not digest and not tag:
            reason = "Invalid request parameters: both tag and digest cannot be null"
            return None, "MissingDigestAndTag", reason
        if digest and not manifests.is_digest(digest):
            return None, "InvalidImageDigest", f"Invalid image digest {digest}"
        if tag and not manifests.is_tag(tag):
            return None, "InvalidImageTag", f"Invalid image tag {tag}"
        image = ecr.images.by_digest(repo, digest) if digest else ecr.images.by_tag(repo, tag or "")
        if image is None:
            return None, "ImageNotFound", "Requested image not found"
        if digest and tag and tag not in image.tags:
            return (
                None,
                "ImageTagDoesNotMatchDigest",
                "Invalid request parameters: given tag does not map to the given digest",
            )
        return image, None, None

    def ids_of(params: Params) -> list[Params]:
        ids = list(params.get("imageIds") or [])
        if len(ids) > MAX_IDS:
            raise InvalidParameterException(
                f"Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must "
                f"have length less than or equal to {MAX_IDS}'"
            )
        return ids

    def describe_images(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        ids = ids_of(params)
        if ids:
            if params.get("nextToken") or params.get("maxResults"):
                raise InvalidParameterException(
                    "Invalid parameter: nextToken and maxResults cannot be used with imageIds"
                )
            details = []
            for image_id in ids:
                image, _code, reason = find(repo, image_id)
                if image is None:
                    raise ImageNotFoundException(
                        f"The image with imageId {image_id} does not exist within the "
                        f"repository with name '{repo.name}' in the registry with id "
                        f"'{repo.account_id}' ({reason})"
                    )
                details.append(wire.image_detail(repo, image))
            return {"imageDetails": details}
        status = tag_status(params)
        images = [i for i in ecr.images.of(repo) if wanted(i, status)]
        images.sort(key=lambda i: i.digest)
        try:
            items, token = page(images, lambda i: i.digest, params.get("nextToken"),
                                params.get("maxResults"), default_max=100)  # fmt: skip
        except InvalidToken as exc:
            raise InvalidParameterException("Invalid parameter at 'nextToken'") from exc
        out: Result = {"imageDetails": [wire.image_detail(repo, i) for i in items]}
        if token:
            out["nextToken"] = token
        return out

    def list_images(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        status = tag_status(params)
        entries: list[tuple[str, Result]] = []
        for image in ecr.images.of(repo):
            if not wanted(image, status):
                continue
            if image.tags and status != TagStatus.UNTAGGED:
                entries += [(f"{image.digest}:{t}", wire.image_id(image, t)) for t in image.tags]
            elif not image.tags:
                entries.append((image.digest, wire.image_id(image)))
        entries.sort(key=lambda e: e[0])
        try:
            items, token = page(entries, lambda e: e[0], params.get("nextToken"),
                                params.get("maxResults"), default_max=100)  # fmt: skip
        except InvalidToken as exc:
            raise InvalidParameterException("Invalid parameter at 'nextToken'") from exc
        out: Result = {"imageIds": [e[1] for e in items]}
        if token:
            out["nextToken"] = token
        return out

    def batch_get_image(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        accepted = params.get("acceptedMediaTypes")
        images, failures = [], []
        for image_id in ids_of(params):
            image, code, reason = find(repo, image_id)
            if image is None:
                failures.append({"imageId": image_id, "failureCode": code,
                                 "failureReason": reason})  # fmt: skip
                continue
            if accepted and image.media_type not in accepted:
                reason = f"The image is a {image.media_type}"
                failures.append({"imageId": image_id, "failureCode": "UnsupportedImageType",
                                 "failureReason": reason})  # fmt: skip
                continue
            images.append({
                "registryId": repo.account_id,
                "repositoryName": repo.name,
                "imageId": {**wire.image_id(image), **({"imageTag": image_id["imageTag"]}
                                                       if image_id.get("imageTag") else {})},
                "imageManifest": image.manifest,
                "imageManifestMediaType": image.media_type,
            })  # fmt: skip
        return {"images": images, "failures": failures}

    def batch_delete_image(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        deleted, failures = [], []
        for image_id in ids_of(params):
            image, code, reason = find(repo, image_id)
            if image is None:
                failures.append({"imageId": image_id, "failureCode": code,
                                 "failureReason": reason})  # fmt: skip
                continue
            tag = image_id.get("imageTag")
            if image_id.get("imageDigest") or not tag:
                deleted += [wire.image_id(image, t) for t in image.tags] or [wire.image_id(image)]
                ecr.delete_images(repo, [image])
            else:
                deleted.append(wire.image_id(image, tag))
                ecr.untag(repo, image, tag)
        return {"imageIds": deleted, "failures": failures}

    def put_image(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        tag = params.get("imageTag")
        if tag is not None and not manifests.is_tag(tag):
            raise InvalidParameterException(f"Invalid parameter at 'imageTag': {tag!r}")
        digest = params.get("imageDigest")
        pushed = ecr.push(
            repo,
            params["imageManifest"].encode("utf-8"),
            params.get("imageManifestMediaType"),
            tag,
            digest,
            strict=True,
        )
        image = pushed.image
        return {
            "image": {
                "registryId": repo.account_id,
                "repositoryName": repo.name,
                "imageId": wire.image_id(image, tag),
                "imageManifest": image.manifest,
                "imageManifestMediaType": image.media_type,
            }
        }

    def batch_check_layer_availability(ctx: RequestContext, params: Params) -> Result:
        repo = get(ctx, params)
        layers, failures = [], []
        for digest in params["layerDigests"]:
            if not manifests.is_digest(digest):
                failures.append({"layerDigest": digest, "failureCode": "InvalidLayerDigest",
                                 "failureReason": "Invalid layer digest"})  # fmt: skip
            elif ecr.images.linked(repo, digest):
                size = ecr.blobs.size(digest) or 0
                layers.append({"layerDigest": digest, "layerAvailability": "AVAILABLE",
                               "layerSize": size,
                               "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"})  # fmt: skip # noqa: E501
            else:
                failures.append({"layerDigest": digest, "failureCode": "MissingLayerDigest",
                                 "failureReason": "Requested layer digest is missing"})  # fmt: skip
        return {"layers": layers, "failures": failures}

    return {
        "DescribeImages": describe_images,
        "ListImages": list_images,
        "BatchGetImage": batch_get_image,
        "BatchDeleteImage": batch_delete_image,
        "PutImage": put_image,
        "BatchCheckLayerAvailability": batch_check_layer_availability,
    }
