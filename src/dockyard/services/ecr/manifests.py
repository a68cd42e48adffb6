"""Image manifests as the OCI distribution spec and Docker define them: which media types
are accepted, what a manifest references, and its digest."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # as the reference registry
DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}")
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


class MediaType(enum.StrEnum):
    DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
    DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
    OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
    OCI_INDEX = "application/vnd.oci.image.index.v1+json"


INDEXES = (MediaType.DOCKER_LIST, MediaType.OCI_INDEX)


class ManifestInvalid(ValueError):
    """The manifest cannot be stored: the registry's MANIFEST_INVALID."""


@dataclass(slots=True)
class Parsed:
    media_type: MediaType
    blobs: list[str]  # config and layers, for an image manifest
    children: list[str]  # manifests, for an index / manifest list
    size: int
    artifact_media_type: str | None


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_digest(value: str) -> bool:
    return DIGEST_RE.fullmatch(value) is not None


def is_tag(value: str) -> bool:
    return TAG_RE.fullmatch(value) is not None


def _descriptor(entry: Any, where: str) -> tuple[str, int]:
    if not isinstance(entry, dict):
        raise ManifestInvalid(f"{where} is not a descriptor")
    digest, size = entry.get("digest"), entry.get("size")
    if not isinstance(digest, str) or not is_digest(digest):
        raise ManifestInvalid(f"{where} has no valid sha256 digest")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ManifestInvalid(f"{where} has no valid size")
    return digest, size


def parse(data: bytes, content_type: str | None) -> Parsed:
    """Check a manifest and say what it references; `content_type` is the media type the
    client gave (header or PutImage's imageManifestMediaType), or None."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestInvalid(f"manifest is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestInvalid("manifest is not valid JSON") from exc
    if not isinstance(doc, dict):
        raise ManifestInvalid("manifest is not a JSON object")
    declared = doc.get("mediaType")
    given = (content_type or "").split(";", 1)[0].strip() or None
    name = declared if isinstance(declared, str) else given
    if name is None:  # OCI allows omitting it: guess from the shape
        name = MediaType.OCI_INDEX if "manifests" in doc else MediaType.OCI_MANIFEST
    try:
        media_type = MediaType(name)
    except ValueError as exc:
        raise ManifestInvalid(f"unsupported manifest media type {name}") from exc
    if given is not None and given != "application/json" and given != media_type:
        raise ManifestInvalid(
            f"the media type {given} does not match the manifest's mediaType {media_type}"
        )
    if doc.get("schemaVersion") != 2:
        raise ManifestInvalid("schemaVersion must be 2")
    if media_type in INDEXES:
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise ManifestInvalid("manifests must be a list")
        children = [_descriptor(e, f"manifests[{i}]")[0] for i, e in enumerate(entries)]
        return Parsed(media_type, [], children, len(data), None)
    config = doc.get("config")
    config_digest, _ = _descriptor(config, "config")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise ManifestInvalid("layers must be a list")
    described = [_descriptor(e, f"layers[{i}]") for i, e in enumerate(layers)]
    assert isinstance(config, dict)
    artifact = config.get("mediaType")
    return Parsed(
        media_type,
        [config_digest, *(d for d, _ in described)],
        [],
        sum(s for _, s in described),
        artifact if isinstance(artifact, str) else None,
    )
