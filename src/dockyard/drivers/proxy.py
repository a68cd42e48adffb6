"""Published ports for bridge-mode tasks: an asyncio TCP proxy from a host port to the task's
address (what docker-proxy does for Docker)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

log = logging.getLogger(__name__)

EPHEMERAL = (32768, 60999)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()


class PortProxy:
    """One listening host port forwarding to target_ip:target_port."""

    def __init__(self, target_ip: str, target_port: int) -> None:
        self.target_ip = target_ip
        self.target_port = target_port
        self.host_port = 0
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    async def start(self, host_port: int | None, bind: str = "0.0.0.0") -> int:
        """Listen on `host_port`, or on a free port of the ephemeral range when 0/None."""
        if host_port:
            self._server = await asyncio.start_server(self._handle, bind, host_port)
            self.host_port = host_port
            return host_port
        ports = random.sample(range(EPHEMERAL[0], EPHEMERAL[1] + 1), 64)
        for port in ports:
            try:
                self._server = await asyncio.start_server(self._handle, bind, port)
            except OSError:
                continue
            self.host_port = port
            return port
        raise OSError("no free host port in the ephemeral range")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        up_writer: asyncio.StreamWriter | None = None
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_ip, self.target_port)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.CancelledError):
            pass  # refused upstream, or the proxy is closing: drop the connection
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    w.close()
            self._conns.discard(task)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._conns):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
