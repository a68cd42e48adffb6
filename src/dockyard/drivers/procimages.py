"""The process runtime's images: what a host has pulled (OCI images from a registry or a
layout), when, and which roots it may let go.

`PulledImages(root, mount_ns)`: `ensure(container)` pulls an image not pulled within
`PULL_TTL` (or checks a `process:` directory exists); `image_for(container)` answers the
image a container runs (None for a host process); `prune(in_use)` lets go of roots no
container uses and no recent pull named. Blocking work goes to worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from dockyard.core.registryauth import pulled_image
from dockyard.core.taskspec import ContainerSpec
from dockyard.drivers.base import DriverError
from dockyard.drivers.ociimage import Image, ImageStore
from dockyard.drivers.procenv import image_directory

log = logging.getLogger(__name__)

# An image pulled less than this long ago (monotonic seconds) is used as it is; after that
# its tag is looked up again (ECS's default pull behaviour, with a short cache).
PULL_TTL = 60.0
# An image root no container uses is kept this long after its last pull (monotonic seconds).
PRUNE_AFTER = 3600.0


class PulledImages:
    def __init__(self, root: Path, mount_ns: bool) -> None:
        self.root = root
        self.mount_ns = mount_ns
        # Shared read-only roots, each container with a writable layer of its own.
        self._store: ImageStore | None = None
        self._pulled: dict[str, tuple[Image, float]] = {}  # image -> (pulled, when)

    async def ensure(self, container: ContainerSpec) -> None:
        if pulled_image(container.image):
            known = self._pulled.get(container.image)
            if known is None or time.monotonic() - known[1] > PULL_TTL:
                self._pulled[container.image] = (await self._pull(container), time.monotonic())
            return
        directory = image_directory(container.image)
        if directory is not None and not os.path.isdir(directory):
            raise DriverError(
                f"CannotPullContainerError: {container.image}: directory {directory} not found"
            )

    async def image_for(self, container: ContainerSpec) -> Image | None:
        known = self._pulled.get(container.image)
        if known is not None:
            return known[0]
        if not pulled_image(container.image):
            return None
        image = await self._pull(container)
        self._pulled[container.image] = (image, time.monotonic())
        return image

    async def _pull(self, container: ContainerSpec) -> Image:
        if not self.mount_ns:
            raise DriverError(
                f"CannotPullContainerError: {container.image}: the process runtime runs "
                "images only as root on Linux (it needs mount and PID namespaces)"
            )
        if self._store is None:
            self._store = await asyncio.to_thread(ImageStore, self.root)
        return await asyncio.to_thread(self._store.get, container.image, container.registry_auth)

    async def prune(self, in_use: set[Path]) -> None:
        """Let go of image roots that no container here uses (`in_use`) and no pull of the
        last `PRUNE_AFTER` seconds named."""
        if self._store is None:
            return
        now = time.monotonic()
        keep = {image.rootfs for image, when in self._pulled.values() if now - when < PRUNE_AFTER}
        gone = await asyncio.to_thread(self._store.prune, keep | in_use)
        if gone:
            self._pulled = {k: v for k, v in self._pulled.items() if v[0].rootfs not in gone}
            log.info("pruned %d unused image root(s)", len(gone))

    @property
    def active(self) -> bool:
        """Whether any image was pulled here (so there may be roots to prune)."""
        return self._store is not None
