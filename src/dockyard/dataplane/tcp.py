"""The TCP side of a Network Load Balancer listener: each client connection goes to one
target of the forward action's target group and bytes flow both ways until either side
closes. A connection counts as in flight on its target until it ends (draining waits)."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import cast

from dockyard.dataplane.balancer import GroupRuntime
from dockyard.dataplane.config import TargetConfig
from dockyard.dataplane.metrics import LoadBalancerCounters
from dockyard.dataplane.proxy import CONNECT_TIMEOUT, ListenerRuntime
from dockyard.dataplane.routes import ForwardRuntime

log = logging.getLogger(__name__)

_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class _Pipe(asyncio.Protocol):
    """One side of a spliced pair: what it receives, the peer's transport writes."""

    def __init__(self, counters: LoadBalancerCounters) -> None:
        self.counters = counters
        self.transport: asyncio.Transport | None = None
        self.peer: _Pipe | None = None
        self.on_lost: list[object] = []
        self.buffer: list[bytes] = []
        self.done: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        peer = self.peer
        if peer is not None and peer.transport is not None:
            self.counters.processed_bytes += len(data)  # forwarded bytes, either way
            peer.transport.write(data)
        else:
            self.buffer.append(data)
            if self.transport is not None:
                self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        peer = self.peer
        if peer is not None and peer.transport is not None and peer.transport.can_write_eof():
            peer.transport.write_eof()
            return True
        return None

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        reset = isinstance(exc, ConnectionResetError)
        if reset:
            self._count_reset()
        self.transport = None
        peer, self.peer = self.peer, None
        if peer is not None and peer.transport is not None:
            if reset:  # a reset is forwarded as a reset
                peer.transport.abort()
            else:
                peer.transport.close()
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    def _count_reset(self) -> None:  # a plain pipe is the connection to the target
        self.counters.target_resets += 1


class TcpClient(_Pipe):
    def __init__(self, listener: ListenerRuntime) -> None:
        super().__init__(listener.counters)
        self.listener = listener
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.listener.counters.new_connections += 1
        self.listener.counters.active_connections += 1
        assert self.transport is not None
        self.transport.pause_reading()
        self.task = self.listener.plane.loop.create_task(self._splice())

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.counters.active_connections -= 1
        super().connection_lost(exc)
        if self.task is not None and self.peer is None and not self.task.done():
            self.task.cancel()

    def _count_reset(self) -> None:
        self.counters.client_resets += 1

    def _reset(self) -> None:
        """Refuse the flow the way an NLB does: a TCP reset from the load balancer."""
        self.counters.elb_resets += 1
        if self.transport is not None:
            sock = self.transport.get_extra_info("socket")
            if sock is not None:  # linger 0: closing sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
            self.transport.abort()

    def _choose(self) -> tuple[GroupRuntime, TargetConfig] | None:
        action = self.listener.routes.match(None)
        if not isinstance(action, ForwardRuntime):
            return None
        plane = self.listener.plane
        for arn in action.chooser.order():
            group = plane.groups.get(arn)
            target = group.pick(plane.now()) if group is not None else None
            if group is not None and target is not None:
                return group, target
        return None

    async def _splice(self) -> None:
        chosen = self._choose()
        if chosen is None:
            self._reset()
            return
        group, target = chosen
        group.acquire(target.key)
        group.counters.requests += 1
        loop = self.listener.plane.loop
        try:
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    _, upstream = await loop.create_connection(
                        lambda: _Pipe(self.counters), target.host, target.port
                    )
            except (OSError, TimeoutError) as exc:
                self.listener.counters.target_connection_errors += 1
                log.debug("TCP target %s refused: %s", target.key, exc)
                self._reset()
                return
            if self.transport is None:
                if upstream.transport is not None:
                    upstream.transport.close()
                return
            upstream.peer, self.peer = self, upstream
            upstream.done = loop.create_future()
            assert upstream.transport is not None
            for chunk in self.buffer:
                self.counters.processed_bytes += len(chunk)
                upstream.transport.write(chunk)
            self.buffer.clear()
            self.transport.resume_reading()
            await upstream.done
        finally:
            group.release(target.key)
