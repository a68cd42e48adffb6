from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.images import BUSYBOX, build_busybox_image
from tests.support.server import DockyardProcess


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
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed at /bin/busybox")
    return build_busybox_image(docker_client)


@pytest.fixture(scope="module")
def image(busybox_image: str) -> str:
    return busybox_image


@pytest.fixture(scope="module")
def server(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    """A Dockyard server running its tasks as Docker containers, one per test module."""
    proc = DockyardProcess(tmp_path_factory.mktemp("e2e") / "data", "--runtime", "docker")
    proc.start()
    yield proc
    proc.stop()
