"""The DNS answer builder: authoritative answers for our zones, NXDOMAIN and NODATA with the
SOA, REFUSED for every other name, truncation over UDP; and the server over UDP and TCP."""

from __future__ import annotations

import asyncio
import socket

from dnslib import QTYPE, RCODE, DNSRecord

from dockyard.core.discovery import NameRecords, Srv
from dockyard.dataplane.dns import DnsServer, answer

ZONE = "corp.local"


class Directory:
    def __init__(self) -> None:
        self.names: dict[str, NameRecords] = {
            ZONE: NameRecords(ZONE, 15, True),
            f"web.{ZONE}": NameRecords(
                ZONE, 15, True, a=("10.0.0.1", "10.0.0.2"),
                srv=(Srv(1, 1, 8080, f"t1.web.{ZONE}"),), ttl={"A": 30, "SRV": 20},
            ),
            f"alias.{ZONE}": NameRecords(ZONE, 15, True, cname="example.com",
                                         ttl={"CNAME": 60}),
        }  # fmt: skip

    def lookup(self, name: str) -> NameRecords | None:
        if name in self.names:
            return self.names[name]
        if name.endswith("." + ZONE):
            return NameRecords(ZONE, 15, False)
        return None


def ask(name: str, qtype: str, directory: Directory | None = None) -> DNSRecord:
    raw = answer(DNSRecord.question(name, qtype).pack(), directory or Directory())
    assert raw is not None
    return DNSRecord.parse(raw)


def test_a_and_srv_records_with_their_ttl() -> None:
    reply = ask("web.corp.local", "A")
    assert reply.header.rcode == RCODE.NOERROR and reply.header.aa == 1
    assert sorted(str(rr.rdata) for rr in reply.rr) == ["10.0.0.1", "10.0.0.2"]
    assert {rr.ttl for rr in reply.rr} == {30}
    srv = ask("WEB.corp.local", "SRV").rr
    assert [(rr.rdata.port, str(rr.rdata.target), rr.ttl) for rr in srv] == [
        (8080, "t1.web.corp.local.", 20)
    ]
    assert len(ask("web.corp.local", "ANY").rr) == 3


def test_missing_names_and_types_carry_the_soa() -> None:
    nx = ask("nope.corp.local", "A")
    assert nx.header.rcode == RCODE.NXDOMAIN and nx.header.aa == 1
    assert [rr.rtype for rr in nx.auth] == [QTYPE.SOA] and nx.auth[0].ttl == 15
    nodata = ask("web.corp.local", "AAAA")
    assert nodata.header.rcode == RCODE.NOERROR and not nodata.rr
    assert [rr.rtype for rr in nodata.auth] == [QTYPE.SOA]
    apex = ask("corp.local", "SOA")
    assert [rr.rtype for rr in apex.rr] == [QTYPE.SOA]


def test_cname_answers_every_type() -> None:
    reply = ask("alias.corp.local", "A")
    assert [(rr.rtype, str(rr.rdata)) for rr in reply.rr] == [(QTYPE.CNAME, "example.com.")]


def test_other_names_are_refused_not_resolved() -> None:
    reply = ask("example.com", "A")
    assert reply.header.rcode == RCODE.REFUSED and not reply.rr and reply.header.ra == 0


def test_garbage_answers_formerr_and_responses_are_ignored() -> None:
    raw = answer(b"\x12\x34garbage", Directory())
    assert raw is not None and DNSRecord.parse(raw).header.rcode == RCODE.FORMERR
    assert DNSRecord.parse(raw).header.id == 0x1234
    response = DNSRecord.question("web.corp.local").reply().pack()
    assert answer(response, Directory()) is None


def test_large_udp_answers_are_truncated() -> None:
    directory = Directory()
    many = tuple(f"10.0.{i // 250}.{i % 250}" for i in range(100))
    directory.names[f"big.{ZONE}"] = NameRecords(ZONE, 15, True, a=many, ttl={"A": 1})
    raw = answer(DNSRecord.question(f"big.{ZONE}").pack(), directory)
    assert raw is not None and DNSRecord.parse(raw).header.tc == 1
    tcp = answer(DNSRecord.question(f"big.{ZONE}").pack(), directory, udp=False)
    assert tcp is not None and len(DNSRecord.parse(tcp).rr) == 100


def test_server_answers_over_udp_and_tcp() -> None:
    async def scenario() -> tuple[DNSRecord, DNSRecord]:
        server = DnsServer(Directory(), "127.0.0.1", 0)
        await server.start()
        try:
            loop = asyncio.get_running_loop()
            query = DNSRecord.question("web.corp.local", "SRV")
            udp = await loop.run_in_executor(
                None, lambda: query.send("127.0.0.1", server.port, timeout=3)
            )
            tcp = await loop.run_in_executor(
                None, lambda: query.send("127.0.0.1", server.port, tcp=True, timeout=3)
            )
            return DNSRecord.parse(udp), DNSRecord.parse(tcp)
        finally:
            await server.stop()

    udp, tcp = asyncio.run(scenario())
    assert len(udp.rr) == 1 and len(tcp.rr) == 1


def test_a_port_in_use_is_named() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def scenario() -> str:
            try:
                await DnsServer(Directory(), "127.0.0.1", port).start()
            except RuntimeError as exc:
                return str(exc)
            return ""

        message = asyncio.run(scenario())
    assert f"127.0.0.1:{port}" in message and "--dns-port" in message
