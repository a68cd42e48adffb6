"""A load balancer's DNSName resolves through the server's DNS port to the address its
listeners are bound on, so clients can reach it by name as they would on AWS."""

from __future__ import annotations

import http.client
from collections.abc import Callable

from dnslib import QTYPE, RCODE, DNSRecord

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess, free_port


def resolve(name: str, dns_port: int, qtype: str = "A") -> DNSRecord:
    raw = DNSRecord.question(name, qtype).send("127.0.0.1", dns_port, timeout=3)
    return DNSRecord.parse(raw)


def test_load_balancer_dns_name_resolves_and_serves(
    fresh_server: Callable[..., DockyardProcess],
) -> None:
    dns_port = free_port()
    server = fresh_server("--runtime", "process", "--dns-port", str(dns_port))
    elb = make_client("elbv2", server.endpoint)
    lb = elb.create_load_balancer(Name="by-name", Subnets=["subnet-a", "subnet-b"])
    lb_arn, dns_name = lb["LoadBalancers"][0]["LoadBalancerArn"], lb["LoadBalancers"][0]["DNSName"]
    assert dns_name.endswith(".us-east-1.elb.localhost")
    port = free_port()
    elb.create_listener(
        LoadBalancerArn=lb_arn, Port=port, Protocol="HTTP",
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "200", "ContentType": "text/plain", "MessageBody": "found by name"}}],
    )  # fmt: skip

    reply = resolve(dns_name, dns_port)
    assert reply.header.rcode == RCODE.NOERROR and reply.header.aa == 1
    assert [(QTYPE[rr.rtype], str(rr.rdata), rr.ttl) for rr in reply.rr] == [("A", "127.0.0.1", 60)]
    address = str(reply.rr[0].rdata)
    conn = http.client.HTTPConnection(address, port, timeout=10)
    conn.request("GET", "/", headers={"Host": dns_name})
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"found by name")
    conn.close()

    # Case does not matter in DNS; a name of the zone that no load balancer has does not exist;
    # a name outside the server's zones is refused (it forwards nothing).
    assert resolve(dns_name.upper(), dns_port).rr[0].rdata == reply.rr[0].rdata
    missing = resolve("nobody-123.us-east-1.elb.localhost", dns_port)
    assert missing.header.rcode == RCODE.NXDOMAIN
    assert resolve("example.com", dns_port).header.rcode == RCODE.REFUSED

    elb.delete_load_balancer(LoadBalancerArn=lb_arn)
    assert resolve(dns_name, dns_port).header.rcode == RCODE.NXDOMAIN
