"""An authoritative DNS server for service discovery, over UDP and TCP.

It answers for the zones of a `DnsDirectory` (Cloud Map's private DNS namespaces): A, AAAA,
SRV and CNAME records of their names, SOA at a zone's apex, NXDOMAIN (with the SOA) for a
name that does not exist in a zone, and REFUSED for every name outside them: it resolves
nothing else and forwards nothing. `answer()` is the pure part: request bytes in, response
bytes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from typing import cast

from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, SOA, SRV, A, DNSHeader, DNSRecord
from dnslib.dns import DNSError

from dockyard.core.discovery import DnsDirectory, NameRecords

log = logging.getLogger(__name__)

UDP_MAX = 512  # without EDNS0
SOA_TIMES = (1, 7200, 900, 1209600)  # serial, refresh, retry, expire (minimum: the SOA TTL)


def _soa(records: NameRecords) -> RR:
    zone = records.zone
    return RR(
        zone + ".",
        QTYPE.SOA,
        ttl=records.soa_ttl,
        rdata=SOA(f"ns.{zone}.", f"hostmaster.{zone}.", (*SOA_TIMES, records.soa_ttl)),
    )


def _answers(qname: str, qtype: int, records: NameRecords) -> list[RR]:
    ttl = records.ttl or {}
    out: list[RR] = []
    if records.cname is not None:
        # A CNAME stands alone at its name: it answers every type.
        return [RR(qname, QTYPE.CNAME, ttl=ttl.get("CNAME", 0), rdata=CNAME(records.cname))]
    anything = qtype == QTYPE.ANY
    if qtype == QTYPE.A or anything:
        out += [RR(qname, QTYPE.A, ttl=ttl.get("A", 0), rdata=A(ip)) for ip in records.a]
    if qtype == QTYPE.AAAA or anything:
        out += [
            RR(qname, QTYPE.AAAA, ttl=ttl.get("AAAA", 0), rdata=AAAA(ip)) for ip in records.aaaa
        ]
    if qtype == QTYPE.SRV or anything:
        out += [
            RR(qname, QTYPE.SRV, ttl=ttl.get("SRV", 0),
               rdata=SRV(s.priority, s.weight, s.port, s.target + "."))
            for s in records.srv
        ]  # fmt: skip
    if (qtype == QTYPE.SOA or anything) and qname.rstrip(".").lower() == records.zone:
        out.append(_soa(records))
    return out


def _limit(request: DNSRecord) -> int:
    for rr in request.ar:
        if rr.rtype == QTYPE.OPT:
            return max(UDP_MAX, int(rr.rclass))
    return UDP_MAX


def answer(data: bytes, directory: DnsDirectory, *, udp: bool = True) -> bytes | None:
    """The response to one DNS message (None: not a message worth answering)."""
    try:
        request = DNSRecord.parse(data)
    except (DNSError, struct.error, IndexError, ValueError, UnicodeDecodeError):
        if len(data) >= 2:
            header = DNSHeader(id=int.from_bytes(data[:2], "big"), qr=1, rcode=RCODE.FORMERR)
            return DNSRecord(header).pack()  # type: ignore[no-any-return]
        return None
    if request.header.qr:
        return None  # a response, not a query
    reply = request.reply(ra=0, aa=0)
    if request.header.opcode != 0:
        reply.header.rcode = RCODE.NOTIMP
        return reply.pack()  # type: ignore[no-any-return]
    if len(request.questions) != 1:
        reply.header.rcode = RCODE.FORMERR
        return reply.pack()  # type: ignore[no-any-return]
    question = request.q
    qname = str(question.qname)
    records = directory.lookup(qname.rstrip(".").lower())
    if records is None:
        reply.header.rcode = RCODE.REFUSED
        return reply.pack()  # type: ignore[no-any-return]
    reply.header.aa = 1
    if not records.exists:
        reply.header.rcode = RCODE.NXDOMAIN
        reply.add_auth(_soa(records))
    else:
        found = _answers(qname, question.qtype, records)
        for rr in found:
            reply.add_answer(rr)
        if not found:
            reply.add_auth(_soa(records))  # NODATA
    packed: bytes = reply.pack()
    if udp and len(packed) > _limit(request):
        packed = reply.truncate().pack()
    return packed


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, directory: DnsDirectory) -> None:
        self.directory = directory
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport is not an asyncio.DatagramTransport subclass.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        try:
            out = answer(data, self.directory, udp=True)
        except Exception:
            log.exception("dns: answering a query failed")
            return
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)


class Directories:
    """Several directories as one: the first whose zones contain a name answers for it."""

    def __init__(self, *directories: DnsDirectory) -> None:
        self.directories = directories

    def lookup(self, name: str) -> NameRecords | None:
        for directory in self.directories:
            records = directory.lookup(name)
            if records is not None:
                return records
        return None


class DnsPortUnavailable(RuntimeError):
    """The DNS port cannot be bound; the message says which and why."""


class DnsServer:
    """UDP and TCP listeners on one port of `host`."""

    def __init__(self, directory: DnsDirectory, host: str, port: int) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port)
            if self.port == 0:
                self.port = self._tcp.sockets[0].getsockname()[1]
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self.directory), local_addr=(self.host, self.port)
            )
        except OSError as exc:
            await self.stop()
            raise DnsPortUnavailable(
                f"cannot answer DNS on {self.host}:{self.port} ({exc.strerror or exc}); "
                "choose another --dns-port"
            ) from exc
        self._udp = transport
        log.info("dns: answering for private DNS namespaces on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            with contextlib.suppress(Exception):
                await self._tcp.wait_closed()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(2), "big")
                data = await reader.readexactly(size)
                out = answer(data, self.directory, udp=False)
                if out is None:
                    break
                writer.write(len(out).to_bytes(2, "big") + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:
            log.exception("dns: a TCP query failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
