"""Front-door limits, against a real server: authentication decided from the headers before
the body is read, request bodies capped (413) without the server holding them, gzip bodies
capped before they inflate, URL and header sizes capped, and deeply nested documents
answered with a 400 SerializationException instead of a 500."""

from __future__ import annotations

import datetime
import gzip
import json
from collections.abc import Iterator

import cbor2
import pytest

from tests.security.sigv4_support import (
    KEY,
    ecs_call,
    raw_exchange,
    send,
    status_of,
    vm_rss_kib,
)
from tests.support.server import DockyardProcess

MIB = 1024 * 1024
ECS_TARGET = "AmazonEC2ContainerServiceV20141113"


def _pid(server: DockyardProcess) -> int:
    assert server.proc is not None
    return server.proc.pid


def _head(port: int, headers: dict[str, str], target: str = "/") -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _zeros(total: int, chunk: int = MIB) -> Iterator[bytes]:
    block = b"0" * chunk
    for _ in range(total // chunk):
        yield block


def _ecs_headers(operation: str = "ListClusters") -> dict[str, str]:
    return {
        "X-Amz-Target": f"{ECS_TARGET}.{operation}",
        "Content-Type": "application/x-amz-json-1.1",
    }


# -- authentication before the body ---------------------------------------------------------


def test_an_unknown_key_is_refused_before_the_body_is_sent(
    sigv4_server: DockyardProcess,
) -> None:
    _, _, headers = ecs_call(
        sigv4_server.endpoint, "ListClusters", {}, credentials=("AKIDNOBODY", "x")
    )
    headers["Content-Length"] = str(50 * MIB)
    # Only the head goes out: the server must answer without waiting for 50 MB.
    raw = raw_exchange(sigv4_server.port, _head(sigv4_server.port, headers), timeout=20)
    assert status_of(raw) == 403
    assert b"UnrecognizedClientException" in raw


def test_a_stale_date_is_refused_before_the_body_is_sent(
    sigv4_server: DockyardProcess,
) -> None:
    _, _, headers = ecs_call(
        sigv4_server.endpoint,
        "ListClusters",
        {},
        when=datetime.datetime(2015, 1, 1, tzinfo=datetime.UTC),
    )
    headers["Content-Length"] = str(50 * MIB)
    raw = raw_exchange(sigv4_server.port, _head(sigv4_server.port, headers), timeout=20)
    assert status_of(raw) == 403
    assert b"Signature expired" in raw


# -- body size ------------------------------------------------------------------------------


def test_a_50_mb_body_answers_413_without_the_server_holding_it(
    sigv4_open_server: DockyardProcess,
) -> None:
    server = sigv4_open_server
    before = vm_rss_kib(_pid(server))
    headers = {**_ecs_headers(), "Content-Length": str(50 * MIB)}
    raw = raw_exchange(server.port, _head(server.port, headers), _zeros(50 * MIB))
    assert status_of(raw) == 413
    assert b"RequestEntityTooLargeException" in raw
    grown_kib = vm_rss_kib(_pid(server)) - before
    assert grown_kib < 20 * 1024, f"RSS grew by {grown_kib} KiB"
    assert send("POST", f"{server.endpoint}/", b"{}", _ecs_headers()).status == 200


@pytest.mark.parametrize("route", ["/_dockyard/agent/v1/register", "/_dockyard/orphans"])
def test_the_agent_and_orphan_routes_cap_their_bodies_too(
    sigv4_open_server: DockyardProcess, route: str
) -> None:
    server = sigv4_open_server
    before = vm_rss_kib(_pid(server))
    headers = {"Content-Type": "application/json", "Content-Length": str(50 * MIB)}
    raw = raw_exchange(server.port, _head(server.port, headers, route), _zeros(50 * MIB))
    assert status_of(raw) == 413
    grown_kib = vm_rss_kib(_pid(server)) - before
    assert grown_kib < 20 * 1024, f"RSS grew by {grown_kib} KiB"


def test_a_chunked_body_is_read_no_further_than_the_cap(
    sigv4_open_server: DockyardProcess,
) -> None:
    server = sigv4_open_server
    headers = {**_ecs_headers(), "Transfer-Encoding": "chunked"}
    chunk = b"%x\r\n%s\r\n" % (MIB, b"0" * MIB)
    raw = raw_exchange(server.port, _head(server.port, headers), (chunk for _ in range(50)))
    assert status_of(raw) == 413
    assert send("POST", f"{server.endpoint}/", b"{}", _ecs_headers()).status == 200


def test_a_gzip_bomb_is_refused_before_it_inflates(sigv4_open_server: DockyardProcess) -> None:
    server = sigv4_open_server
    bomb = gzip.compress(b" " * (64 * MIB), compresslevel=9)
    assert len(bomb) < 100_000
    before = vm_rss_kib(_pid(server))
    reply = send(
        "POST", f"{server.endpoint}/", bomb, {**_ecs_headers(), "Content-Encoding": "gzip"}
    )
    assert reply.status == 413
    assert reply.code == "RequestEntityTooLargeException"
    grown_kib = vm_rss_kib(_pid(server)) - before
    assert grown_kib < 20 * 1024, f"RSS grew by {grown_kib} KiB"


def test_a_gzip_body_within_the_cap_still_works(sigv4_open_server: DockyardProcess) -> None:
    body = gzip.compress(json.dumps({"clusterName": "gzipped"}).encode())
    reply = send(
        "POST",
        f"{sigv4_open_server.endpoint}/",
        body,
        {**_ecs_headers("CreateCluster"), "Content-Encoding": "gzip"},
    )
    assert reply.status == 200, reply.body
    assert reply.json()["cluster"]["clusterName"] == "gzipped"


# -- URL and header size --------------------------------------------------------------------


def test_a_huge_url_answers_414(sigv4_open_server: DockyardProcess) -> None:
    url = f"{sigv4_open_server.endpoint}/?Action=DescribeLoadBalancers&x={'a' * 20_000}"
    reply = send("GET", url)
    assert reply.status == 414
    assert reply.code == "RequestUriTooLong"


def test_huge_headers_answer_431(sigv4_open_server: DockyardProcess) -> None:
    headers = {**_ecs_headers(), **{f"X-Filler-{i}": "a" * 4000 for i in range(20)}}
    reply = send("POST", f"{sigv4_open_server.endpoint}/", b"{}", headers)
    assert reply.status == 431
    assert reply.code == "RequestHeaderFieldsTooLarge"


# -- nesting --------------------------------------------------------------------------------


def test_5000_deep_json_answers_a_serialization_exception(
    sigv4_open_server: DockyardProcess,
) -> None:
    deep = b'{"clusterName": "deep", "tags": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    reply = send("POST", f"{sigv4_open_server.endpoint}/", deep, _ecs_headers("CreateCluster"))
    assert reply.status == 400
    assert reply.code == "SerializationException"
    assert "Traceback" not in reply.body.decode()


def test_brackets_inside_strings_do_not_count_as_nesting(
    sigv4_open_server: DockyardProcess,
) -> None:
    name = 'b\\"' + "[" * 200 + "{"
    reply = send(
        "POST",
        f"{sigv4_open_server.endpoint}/",
        json.dumps({"clusterName": "brackets", "tags": [{"key": "k", "value": name}]}).encode(),
        _ecs_headers("CreateCluster"),
    )
    assert reply.status == 200, reply.body


def test_5000_deep_cbor_answers_a_serialization_exception(
    sigv4_open_server: DockyardProcess,
) -> None:
    deep: object = []
    for _ in range(5000):
        deep = [deep]
    body = cbor2.dumps({"Namespace": "x", "MetricData": deep})
    reply = send(
        "POST",
        f"{sigv4_open_server.endpoint}/service/GraniteServiceVersion20100801/operation/"
        "PutMetricData",
        body,
        {"Content-Type": "application/cbor", "Smithy-Protocol": "rpc-v2-cbor"},
    )
    assert reply.status == 400
    assert cbor2.loads(reply.body)["__type"] == "SerializationException"


def test_the_signed_server_still_serves_after_all_this(sigv4_server: DockyardProcess) -> None:
    url, body, headers = ecs_call(sigv4_server.endpoint, "ListClusters", {}, credentials=KEY)
    assert send("POST", url, body, headers).status == 200
