"""Container images built locally from busybox-static: no registry is reachable."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

BUSYBOX = Path("/bin/busybox")
BUSYBOX_IMAGE = "dockyard-test/busybox:latest"
DOCKERFILE = b"""FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
"""


def build_busybox_image(client: Any, tag: str = BUSYBOX_IMAGE) -> str:
    """Build an image FROM scratch with busybox-static in it (`docker` SDK client)."""
    if not BUSYBOX.exists():
        raise FileNotFoundError("busybox-static is not installed at /bin/busybox")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(DOCKERFILE)
        tar.addfile(info, io.BytesIO(DOCKERFILE))
        tar.add(str(BUSYBOX), arcname="busybox")
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
    return tag
