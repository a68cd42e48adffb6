"""The Lambda Runtime API (`/2018-06-01/runtime/...`), served to each execution environment
on a loopback listener of its own (its AWS_LAMBDA_RUNTIME_API, `127.0.0.1:<port>`). A
connection is served only when its socket belongs to a process of that environment (its
session, found through /proc), so one environment can neither read nor answer another's
invocations. HTTP/1.1 through h11."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Protocol

import h11

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # a synchronous invocation's response
MAX_HEADER_BYTES = 64 * 1024
ERROR_TYPE_HEADER = b"lambda-runtime-function-error-type"
PATH = re.compile(
    r"/2018-06-01/runtime/(?:(?P<next>invocation/next)"
    r"|invocation/(?P<id>[A-Za-z0-9-]{1,64})/(?P<kind>response|error)|(?P<init>init/error))"
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One invocation as `next` hands it to the runtime."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None


class Client(Protocol):
    """An execution environment as the Runtime API sees it."""

    async def next_invocation(self) -> Delivery: ...

    def respond(self, request_id: str, body: bytes) -> bool:
        """False when `request_id` is not this environment's current invocation."""
        ...

    def fail(self, request_id: str, body: bytes, error_type: str | None) -> bool: ...

    def init_failed(self, body: bytes, error_type: str | None) -> None: ...


def _socket_inode(peer_port: int, our_port: int) -> str | None:
    """The inode of the client socket 127.0.0.1:peer_port -> 127.0.0.1:our_port."""
    local, remote = f":{peer_port:04X}", f":{our_port:04X}"
    with contextlib.suppress(OSError), open("/proc/net/tcp") as table:
        next(table, None)
        for line in table:
            fields = line.split()
            if len(fields) > 9 and fields[1].endswith(local) and fields[2].endswith(remote):
                return fields[9]
    return None


def _session_pids(session: int) -> list[int]:
    pids = [session]
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == session:
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            if int(stat.rpartition(")")[2].split()[3]) == session:
                pids.append(int(entry))
    return pids


def _owns(pid: int, target: str) -> bool:
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return True
    return False


def peer_in_session(peer_port: int, our_port: int, session: int) -> bool:
    """Whether the connecting socket is held by a process of the session `session`."""
    inode = _socket_inode(peer_port, our_port)
    if inode is None:
        return False
    target = f"socket:[{inode}]"
    if _owns(session, target):
        return True
    return any(_owns(pid, target) for pid in _session_pids(session)[1:])


class RuntimeListener:
    """The Runtime API of one environment."""

    def __init__(self, client: Client, host: str = "127.0.0.1") -> None:
        self.client = client
        self.host = host
        self.port = 0
        self.session: int | None = None  # the environment's session id, once started
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.address

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._connections):
            writer.close()

    async def _allowed(self, writer: asyncio.StreamWriter) -> bool:
        if self.session is None or not os.path.exists("/proc/net/tcp"):
            return self.session is not None
        peer = writer.get_extra_info("peername")
        if not peer:
            return False
        return await asyncio.to_thread(peer_in_session, int(peer[1]), self.port, self.session)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            if not await self._allowed(writer):
                writer.close()
                return
            conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER_BYTES)
            while True:
                request = await self._request(conn, reader)
                if request is None:
                    return
                method, target, headers, body = request
                status, extra, payload = await self._handle(method, target, headers, body)
                head = [(b"content-type", b"application/json"),
                        (b"content-length", str(len(payload)).encode()), *extra]  # fmt: skip
                writer.write(conn.send(h11.Response(status_code=status, headers=head)))
                writer.write(conn.send(h11.Data(data=payload)))
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (h11.ProtocolError, ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:  # the server is stopping: the connection just ends
            return
        finally:
            self._connections.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[str, str, dict[bytes, bytes], bytes] | None:
        method = target = ""
        headers: dict[bytes, bytes] = {}
        chunks: list[bytes] = []
        size = 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                method, target = event.method.decode(), event.target.decode()
                headers = {k.lower(): v for k, v in event.headers}
            elif isinstance(event, h11.Data):
                size += len(event.data)
                if size <= MAX_RESPONSE_BYTES:
                    chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                body = b"".join(chunks) if size <= MAX_RESPONSE_BYTES else b""
                if size > MAX_RESPONSE_BYTES:
                    headers[b"x-dockyard-too-large"] = str(size).encode()
                return method, target, headers, body
            else:  # ConnectionClosed, PAUSED
                return None

    async def _handle(
        self, method: str, target: str, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        m = PATH.fullmatch(target.partition("?")[0])
        if m is None:
            return 404, [], _doc({"errorMessage": "not found", "errorType": "NotFound"})
        client = self.client
        if m.group("next"):
            if method != "GET":
                return 405, [], _doc({"errorType": "MethodNotAllowed"})
            d = await client.next_invocation()
            extra = [
                (b"lambda-runtime-aws-request-id", d.request_id.encode()),
                (b"lambda-runtime-deadline-ms", str(d.deadline_ms).encode()),
                (b"lambda-runtime-invoked-function-arn", d.function_arn.encode()),
                (b"lambda-runtime-trace-id", d.trace_id.encode()),
            ]
            if d.client_context:
                extra.append((b"lambda-runtime-client-context", d.client_context.encode()))
            return 200, extra, d.payload
        if method != "POST":
            return 405, [], _doc({"errorType": "MethodNotAllowed"})
        error_type = headers.get(ERROR_TYPE_HEADER, b"").decode("latin-1") or None
        if m.group("init"):
            client.init_failed(body, error_type)
            return 202, [], _doc({"status": "OK"})
        request_id = m.group("id")
        if m.group("kind") == "response":
            too_large = headers.get(b"x-dockyard-too-large")
            if too_large is not None:
                client.fail(request_id, _too_large(int(too_large)), "Function.ResponseSizeTooLarge")
                return 413, [], _doc({"errorType": "RequestEntityTooLarge"})
            ok = client.respond(request_id, body)
        else:
            ok = client.fail(request_id, body, error_type)
        if ok:
            return 202, [], _doc({"status": "OK"})
        return 400, [], _doc({"errorMessage": f"invalid request id {request_id}",
                              "errorType": "InvalidRequestID"})  # fmt: skip


def _doc(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def _too_large(size: int) -> bytes:
    return _doc({
        "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed "
                        f"payload size ({MAX_RESPONSE_BYTES} bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    })  # fmt: skip
