"""`dockyard orphans` signs its requests with SigV4 when given credentials (botocore is
imported only then, so other commands, the agent's among them, start without it)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dockyard.orphans_cli import _call


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers.items()))
            body = json.dumps({"orphans": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def options(url: str, key: str | None) -> argparse.Namespace:
    return argparse.Namespace(
        server=url, access_key=key, secret_key="secret" if key else None, region="eu-west-1"
    )


def test_requests_are_signed_only_with_credentials(
    server: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = server
    assert _call(options(url, "AKIDEXAMPLE"), "GET", "/_dockyard/orphans") == {"orphans": []}
    assert _call(options(url, None), "GET", "/_dockyard/orphans") == {"orphans": []}
    signed, unsigned = seen
    assert (
        signed["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        and "/eu-west-1/ecs/aws4_request" in signed["Authorization"]
    )
    assert "X-Amz-Date" in signed
    assert "Authorization" not in unsigned


def test_the_agent_command_does_not_load_botocore() -> None:
    probe = (
        "import sys; from dockyard.cli import build_parser; "
        "build_parser().parse_args(['agent', '--server', 'http://127.0.0.1:1']); "
        "import dockyard.agent.standalone, dockyard.drivers.select, dockyard.drivers.process; "
        "print('botocore' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
