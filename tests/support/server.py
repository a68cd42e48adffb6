"""Start a real `dockyard server` process for tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DockyardProcess:
    """A `dockyard server` subprocess on a free port with its own data dir."""

    def __init__(
        self, data_dir: Path, *extra: str, port: int | None = None, ca: Path | None = None
    ) -> None:
        self.data_dir = data_dir
        self.extra = list(extra)
        # With --tls-cert in `extra`: the CA that signed it (the endpoint is https).
        self.ca = ca
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.ca else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> DockyardProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        cmd = [
            sys.executable, "-m", "dockyard", "server",
            "--port", str(self.port),
            "--data-dir", str(self.data_dir),
            "--allow-reset",
            *self.extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockyard server exited: {self.log_path.read_text()[-3000:]}")
            try:
                # Another test run on this machine may have taken the port first: only our
                # own process counts.
                if self.health().get("pid") == self.proc.pid:
                    return self
                raise RuntimeError(f"port {self.port} is served by another process")
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        raise RuntimeError(f"dockyard server did not become healthy: {self.log()[-3000:]}")

    def health(self) -> dict[str, Any]:
        url = f"{self.endpoint}/_dockyard/health"
        with urllib.request.urlopen(url, timeout=2, context=self.tls()) as resp:
            return dict(json.loads(resp.read()))

    def reset(self, credentials: tuple[str, str] | None = None) -> None:
        """POST /_dockyard/reset; SigV4-signed with `credentials` (default: the first key of
        the server's --auth-file, when it was started with one)."""
        url = f"{self.endpoint}/_dockyard/reset"
        headers: dict[str, str] = {}
        if credentials is None:
            credentials = self.auth_key()
        if credentials is not None:
            headers = signed_headers("POST", url, credentials)
        req = urllib.request.Request(url, method="POST", headers=headers)
        with urllib.request.urlopen(req, timeout=10, context=self.tls()) as resp:
            resp.read()

    def tls(self) -> ssl.SSLContext | None:
        """What a client verifies an https server with (None: plain http)."""
        return ssl.create_default_context(cafile=str(self.ca)) if self.ca else None

    def auth_key(self) -> tuple[str, str] | None:
        """The first key of the --auth-file this server was started with, if any."""
        if "--auth-file" not in self.extra:
            return None
        path = Path(self.extra[self.extra.index("--auth-file") + 1])
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and not parts[0].startswith("#"):
                return parts[0], parts[1]
        return None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def stop_orphans(self) -> list[str]:
        """Ask the server to stop every orphaned task (what `dockyard orphans stop --all` does)."""
        req = urllib.request.Request(
            f"{self.endpoint}/_dockyard/orphans/stop", data=b'{"all": true}', method="POST"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return list(json.loads(resp.read())["stopping"])

    def orphans(self) -> list[dict[str, Any]]:
        """What `dockyard orphans list` shows."""
        with urllib.request.urlopen(f"{self.endpoint}/_dockyard/orphans", timeout=10) as resp:
            return list(json.loads(resp.read())["orphans"])

    def forget_tasks(self, timeout: float = 15.0) -> None:
        """Reset the server, then stop the tasks its agent keeps running as orphans (tests
        leave nothing behind)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.reset()
        except OSError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [
                d
                for d in self.data_dir.glob("agent/**/containers/*")
                if d.is_dir() and not (d / "exit.json").exists()
            ]
            if not running:
                return
            try:
                self.stop_orphans()  # those the agent reported since the reset
            except OSError:
                return
            time.sleep(0.1)

    def stop(self) -> int | None:
        """SIGTERM, as a user's Ctrl-C or service manager would; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def signed_headers(
    method: str,
    url: str,
    credentials: tuple[str, str],
    body: bytes = b"",
    service: str = "dockyard",
    region: str = "us-east-1",
) -> dict[str, str]:
    """SigV4 headers for a call to one of Dockyard's own routes (as for any AWS call)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials(*credentials), service, region).add_auth(request)
    return dict(request.headers.items())


def client_env(endpoint: str) -> dict[str, str]:
    """Environment for the AWS CLI pointed at Dockyard."""
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_PAGER="",
    )
    return env
