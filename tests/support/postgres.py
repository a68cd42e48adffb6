"""A private PostgreSQL server for tests: initdb into a temporary dir, on a free port.

Needs Debian's `postgresql` package (or initdb/postgres on PATH); tests that use it are
skipped, saying so, when it is not installed. As root, initdb and the server run as the
`postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.server import free_port

USER = "dockyard"
PASSWORD = "s3cret-pw"
PR_SET_PDEATHSIG = 1
NOT_INSTALLED = (
    "PostgreSQL is not installed: `apt-get install postgresql` (Debian) to run these tests"
)


def find_bindir() -> Path | None:
    """Where initdb and postgres are: PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(initdb).parent
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    versions = sorted((int(b.parent.name), b) for b in found if b.parent.name.isdigit())
    return versions[-1][1] if versions else None


def _as_owner() -> dict[str, Any]:
    """Popen arguments that run a command as the `postgres` user when we are root (the
    command itself is the child, so signals reach it)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def _die_with_parent() -> None:
    """In the child: an immediate shutdown (SIGQUIT) if the test run itself is killed."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGQUIT)


class PostgresServer:
    """`postgres -D <dir> -p <port> -k <socket dir> -h 127.0.0.1`, password auth over TCP."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="dockyard-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log_path = self.root / "postgres.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def init(self) -> PostgresServer:
        self.sockets.mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(
            [
                str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER,
                f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--no-sync",
            ],
            check=True, capture_output=True, cwd=self.root, **_as_owner(),
        )  # fmt: skip
        return self

    def start(self, timeout: float = 30.0) -> PostgresServer:
        for _ in range(3):  # another process may take the free port first
            self.port = self.port or free_port()
            log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
            self.proc = subprocess.Popen(
                [
                    str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                    "-k", str(self.sockets), "-h", "127.0.0.1",
                    "-c", "fsync=off", "-c", "full_page_writes=off",
                ],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.root,
                preexec_fn=_die_with_parent, **_as_owner(),
            )  # fmt: skip
            log.close()
            if self._wait_ready(timeout):
                return self
            self.port = 0
        raise RuntimeError(f"PostgreSQL did not start: {self.log()[-3000:]}")

    def _wait_ready(self, timeout: float) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.stop()
        return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def url(self, database: str, password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "dockyard") -> str:
        """A new, empty database; returns its URL. Keys collate by a natural-language rule
        (ICU) where PostgreSQL offers one, so byte-wise key order is really tested."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            try:
                conn.execute(
                    f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu "
                    "ICU_LOCALE 'en-US' LOCALE 'C'"
                )
            except psycopg.Error:
                conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """A fast shutdown: connections are closed, as when a database restarts."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """A running private server, or skip the test when PostgreSQL is not installed."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(NOT_INSTALLED)
    server = PostgresServer(bindir)
    try:
        return server.init().start()
    except BaseException:
        server.destroy()
        raise


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL server for the test session."""
    server = start_postgres()
    yield server
    server.destroy()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL (with user and password) of a new, empty database of the session's server."""
    return postgres_server.create_database()
