"""Small real HTTP/1.1 backends for load balancer tests: each answers with its name, and its
health endpoint answers what the test says."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Backend(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, port: int = 0, host: str = "127.0.0.1") -> None:
        self.name = name
        self.health_status = 200
        self.hits = 0
        self.health_hits = 0
        self.last_headers: dict[str, str] = {}
        self._lock = threading.Lock()
        self.open_sockets: set[socket.socket] = set()
        super().__init__((host, port), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> Backend:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop as a killed process does: the listening socket and every connection close."""
        self.shutdown()
        self.server_close()
        with self._lock:
            for sock in list(self.open_sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client (the load balancer) that went away mid-response is expected here

    def count(self, health: bool) -> None:
        with self._lock:
            if health:
                self.health_hits += 1
            else:
                self.hits += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Backend

    def setup(self) -> None:
        super().setup()
        with self.server._lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        with self.server._lock:
            self.server.open_sockets.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        if url.path == "/health":
            self.server.count(True)
            self._send(self.server.health_status, b"health")
            return
        self.server.count(False)
        self.server.last_headers = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(url.query)
        if "sleep" in query:
            time.sleep(float(query["sleep"][0]))
        if url.path == "/echo":
            doc = {
                "name": self.server.name,
                "path": url.path,
                "method": self.command,
                "headers": self.server.last_headers,
                "body": body.decode("latin-1"),
            }
            self._send(200, json.dumps(doc).encode(), "application/json")
            return
        status = int(query["status"][0]) if "status" in query else 200
        self._send(status, f"{self.server.name} {url.path}".encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle
