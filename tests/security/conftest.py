"""Servers for the front-door security tests (fixtures prefixed `sigv4_`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.sigv4_support import write_auth_file
from tests.support.server import DockyardProcess


@pytest.fixture(scope="module")
def sigv4_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    """A server with --auth-file (two keys, one scoped to account 123456789012)."""
    base = tmp_path_factory.mktemp("sigv4")
    auth = write_auth_file(base / "auth.txt")
    server = DockyardProcess(
        base / "data", "--runtime", "process", "--no-local-agent", "--auth-file", str(auth)
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sigv4_open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    """A server without credentials (anything signed or not goes), for the size limits."""
    base = tmp_path_factory.mktemp("sigv4-open")
    server = DockyardProcess(base / "data", "--runtime", "process", "--no-local-agent")
    server.start()
    yield server
    server.stop()
