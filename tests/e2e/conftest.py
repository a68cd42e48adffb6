from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

IMAGE = "dockyard-test/busybox:latest"
DOCKERFILE = b"""FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
"""


def _engine():  # type: ignore[no-untyped-def]
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        return client
    except Exception:
        return None


@pytest.fixture(scope="session")
def docker_client() -> Iterator[object]:
    client = _engine()
    if client is None:
        pytest.skip("no Docker engine answers")
    yield client
    client.close()


@pytest.fixture(scope="session")
def busybox_image(docker_client) -> str:  # type: ignore[no-untyped-def]
    """An image built here from scratch with busybox-static: no registry needed."""
    busybox = Path("/bin/busybox")
    if not busybox.exists():
        pytest.skip("busybox-static is not installed at /bin/busybox")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(DOCKERFILE)
        tar.addfile(info, io.BytesIO(DOCKERFILE))
        tar.add(str(busybox), arcname="busybox")
    context.seek(0)
    docker_client.images.build(fileobj=context, custom_context=True, tag=IMAGE, rm=True)
    return IMAGE
