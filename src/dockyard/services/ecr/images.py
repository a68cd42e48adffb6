"""Images of every repository (manifests with their tags) and the blobs each repository
links to: in memory, written through to the store.

A repository sees a blob once an upload of it there finished, or it was mounted from
another repository the caller can read; that link (store kind `ecr.layer`) is what lets a
manifest name the blob. Blob files themselves are shared (`blobs.py`) and collected when
no repository links them any more (`Images.unreferenced`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.services.ecr import manifests
from dockyard.services.ecr.errors import (
    ImageAlreadyExistsException,
    ImageDigestDoesNotMatchException,
    ImageTagAlreadyExistsException,
    InvalidParameterException,
    LayersNotFoundException,
)
from dockyard.services.ecr.model import (
    IMAGE_KIND,
    LAYER_KIND,
    Image,
    Repository,
    TagMutability,
    layer_key,
)
from dockyard.store.base import Delete, Put, Store

# An uploaded blob that no manifest names is unlinked after this long (clock seconds).
UNUSED_LAYER_TTL = 24 * 3600.0


@dataclass(slots=True)
class Pushed:
    image: Image
    created: bool  # a new manifest or a tag newly pointing at it
    untagged: Image | None = None  # the image the tag was taken from


class Images:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.by_repo: dict[str, dict[str, Image]] = {}
        self.tags: dict[str, dict[str, str]] = {}  # repo ARN -> tag -> digest
        self.layers: dict[str, dict[str, float]] = {}  # repo ARN -> blob digest -> linked at

    def load(self) -> None:
        self.reset()
        for _key, body in self.store.load(IMAGE_KIND):
            self._apply(Image.from_dict(body))
        for key, body in self.store.load(LAYER_KIND):
            repo_arn, _, digest = key.partition("|")
            self.layers.setdefault(repo_arn, {})[digest] = float(body["linkedAt"])

    def reset(self) -> None:
        self.by_repo.clear()
        self.tags.clear()
        self.layers.clear()

    def _apply(self, image: Image) -> None:
        repo_images = self.by_repo.setdefault(image.repository_arn, {})
        tags = self.tags.setdefault(image.repository_arn, {})
        old = repo_images.get(image.digest)
        if old is not None:
            for tag in old.tags:
                if tags.get(tag) == image.digest:
                    del tags[tag]
        repo_images[image.digest] = image
        for tag in image.tags:
            tags[tag] = image.digest

    def _drop(self, image: Image) -> None:
        self.by_repo.get(image.repository_arn, {}).pop(image.digest, None)
        tags = self.tags.get(image.repository_arn, {})
        for tag in image.tags:
            if tags.get(tag) == image.digest:
                del tags[tag]

    # -- reads ---------------------------------------------------------------------------

    def of(self, repo: Repository) -> list[Image]:
        return sorted(self.by_repo.get(repo.arn, {}).values(), key=lambda i: i.pushed_at)

    def count(self, repo: Repository) -> int:
        return len(self.by_repo.get(repo.arn, {}))

    def by_digest(self, repo: Repository, digest: str) -> Image | None:
        return self.by_repo.get(repo.arn, {}).get(digest)

    def by_tag(self, repo: Repository, tag: str) -> Image | None:
        digest = self.tags.get(repo.arn, {}).get(tag)
        return None if digest is None else self.by_digest(repo, digest)

    def resolve(self, repo: Repository, reference: str) -> Image | None:
        """An image by digest (`sha256:...`) or tag."""
        if reference.startswith("sha256:"):
            return self.by_digest(repo, reference)
        return self.by_tag(repo, reference)

    def linked(self, repo: Repository, digest: str) -> bool:
        return digest in self.layers.get(repo.arn, {})

    # -- writes --------------------------------------------------------------------------

    def link(self, repo: Repository, digest: str) -> None:
        """Let `repo` see blob `digest` (the blob file exists)."""
        if self.linked(repo, digest):
            return
        now = self.clock.now()
        self.store.put(LAYER_KIND, layer_key(repo.arn, digest), {"linkedAt": now})
        self.layers.setdefault(repo.arn, {})[digest] = now

    def put(
        self,
        repo: Repository,
        data: bytes,
        content_type: str | None,
        tag: str | None,
        expected_digest: str | None = None,
        strict: bool = False,
    ) -> Pushed:
        """Store a manifest (and point `tag` at it). `strict` (PutImage): pushing what is
        already there is ImageAlreadyExistsException; the registry API takes it again."""
        try:
            parsed = manifests.parse(data, content_type)
        except manifests.ManifestInvalid as exc:
            raise InvalidParameterException(
                f"Invalid parameter at 'imageManifest' failed to satisfy constraint: '{exc}'"
            ) from exc
        digest = manifests.digest_of(data)
        if expected_digest is not None and expected_digest != digest:
            raise ImageDigestDoesNotMatchException(
                f"Invalid parameter at 'imageDigest' failed to satisfy constraint: "
                f"'The image digest {expected_digest} does not match the manifest's digest "
                f"{digest}'"
            )
        missing = [d for d in parsed.blobs if not self.linked(repo, d)]
        missing += [d for d in parsed.children if self.by_digest(repo, d) is None]
        if missing:
            raise LayersNotFoundException(
                f"The following layers or manifests were not found in the repository "
                f"'{repo.name}': {', '.join(missing)}"
            )
        existing = self.by_digest(repo, digest)
        holder = self.by_tag(repo, tag) if tag else None
        moved = tag is not None and holder is not None and holder.digest != digest
        if moved and repo.tag_mutability == TagMutability.IMMUTABLE:
            raise ImageTagAlreadyExistsException(
                f"The image tag '{tag}' already exists in the '{repo.name}' repository "
                "and cannot be overwritten because the repository is immutable."
            )
        if existing is not None and (tag is None or tag in existing.tags):
            if strict:
                raise ImageAlreadyExistsException(
                    f"Image with digest '{digest}' and tag '{tag}' already exists in the "
                    f"repository with name '{repo.name}' in registry with id "
                    f"'{repo.account_id}'"
                )
            return Pushed(existing, created=False)
        now = self.clock.now()
        if existing is None:
            image = Image(
                repository_arn=repo.arn,
                digest=digest,
                manifest=data.decode("utf-8"),
                media_type=str(parsed.media_type),
                pushed_at=now,
                size=parsed.size,
                references=[*parsed.blobs, *parsed.children],
                artifact_media_type=parsed.artifact_media_type,
                tags=[tag] if tag else [],
            )
        else:
            assert tag is not None  # an untagged push of what exists returned above
            image = dataclasses.replace(existing, tags=[*existing.tags, tag])
        puts: list[Put] = [(IMAGE_KIND, image.key, image.to_dict())]
        untagged = None
        if tag and holder is not None and holder.digest != digest:
            untagged = dataclasses.replace(holder, tags=[t for t in holder.tags if t != tag])
            puts.append((IMAGE_KIND, untagged.key, untagged.to_dict()))
        self.store.write(puts=puts)
        if untagged is not None:
            self._apply(untagged)
        self._apply(image)
        return Pushed(image, created=True, untagged=untagged)

    def untag(self, repo: Repository, image: Image, tag: str) -> Image | None:
        """Remove one tag; the last tag removed deletes the image (as ECR). The image left,
        or None when it was deleted."""
        remaining = [t for t in image.tags if t != tag]
        if not remaining:
            self.remove(repo, [image])
            return None
        updated = dataclasses.replace(image, tags=remaining)
        self.store.put(IMAGE_KIND, updated.key, updated.to_dict())
        self._apply(updated)
        return updated

    def remove(self, repo: Repository, images: Iterable[Image]) -> None:
        """Delete images, and the repository's links to blobs no remaining image names
        (those uploaded recently and not named yet stay, for a push in progress)."""
        gone = {i.digest: i for i in images}
        if not gone:
            return
        kept_refs = {
            r for i in self.by_repo.get(repo.arn, {}).values() if i.digest not in gone
            for r in i.references
        }  # fmt: skip
        dropped_refs = {r for i in gone.values() for r in i.references} - kept_refs
        deletes: list[Delete] = [(IMAGE_KIND, i.key) for i in gone.values()]
        links = self.layers.get(repo.arn, {})
        unlinked = [d for d in dropped_refs if d in links]
        deletes += [(LAYER_KIND, layer_key(repo.arn, d)) for d in unlinked]
        self.store.write(deletes=deletes)
        for image in gone.values():
            self._drop(image)
        for digest in unlinked:
            links.pop(digest, None)

    def record_pull(self, image: Image) -> None:
        """lastRecordedPullTime (kept in memory and saved at most hourly, as ECR records
        it approximately)."""
        now = self.clock.now()
        if image.last_pull is not None and now - image.last_pull < 3600:
            return
        updated = dataclasses.replace(image, last_pull=now)
        try:
            self.store.put(IMAGE_KIND, updated.key, updated.to_dict())
        except Exception:  # a pull never fails for want of recording it
            return
        self._apply(updated)

    def remove_repository(self, repo: Repository) -> list[Delete]:
        """The deletes of everything of `repo` (for one transaction with the repository)."""
        deletes: list[Delete] = [(IMAGE_KIND, i.key) for i in self.of(repo)]
        deletes += [(LAYER_KIND, layer_key(repo.arn, d)) for d in self.layers.get(repo.arn, {})]
        return deletes

    def forget_repository(self, repo: Repository) -> None:
        self.by_repo.pop(repo.arn, None)
        self.tags.pop(repo.arn, None)
        self.layers.pop(repo.arn, None)

    def expire_unused_links(self) -> None:
        """Unlink blobs uploaded long ago that no manifest of their repository names."""
        cutoff = self.clock.now() - UNUSED_LAYER_TTL
        deletes: list[Delete] = []
        for repo_arn, links in self.layers.items():
            named = {r for i in self.by_repo.get(repo_arn, {}).values() for r in i.references}
            deletes += [
                (LAYER_KIND, layer_key(repo_arn, d))
                for d, at in links.items()
                if at < cutoff and d not in named
            ]
        if not deletes:
            return
        self.store.write(deletes=deletes)
        for _, key in deletes:
            repo_arn, _, digest = key.partition("|")
            self.layers.get(repo_arn, {}).pop(digest, None)

    def referenced(self) -> set[str]:
        """Every blob digest some repository links."""
        return {d for links in self.layers.values() for d in links}
