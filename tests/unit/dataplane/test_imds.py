"""The instance metadata service over a real socket: the IMDSv2 flow, IMDSv1, tokens and
every category, as a program on the instance sees them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from dockyard.core.clock import ManualClock
from dockyard.dataplane.imds import ImdsServer
from dockyard.dataplane.imds_paths import identity_document
from dockyard.dataplane.imds_tokens import TokenBook
from tests.unit.dataplane.imds_fakes import CREDENTIALS, REQUIRED, VIEW, FakeMetadata, sign

Client = httpx.AsyncClient
Body = Callable[[Client, FakeMetadata, ManualClock], Awaitable[None]]


def serve(body: Body) -> None:
    async def main() -> None:
        clock = ManualClock()
        metadata = FakeMetadata()
        server = ImdsServer(metadata, clock, "127.0.0.1", 0, TokenBook(clock))
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
                await body(client, metadata, clock)
        finally:
            await server.stop()

    asyncio.run(main())


async def token(client: Client, ttl: str = "21600") -> str:
    r = await client.put("/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl})
    assert r.status_code == 200, r.text
    assert r.headers["X-aws-ec2-metadata-token-ttl-seconds"] == ttl
    return r.text


async def get(client: Client, path: str, tok: str | None = None) -> httpx.Response:
    headers = {"X-aws-ec2-metadata-token": tok} if tok is not None else {}
    return await client.get(path, headers=headers)


def test_v2_flow_token_then_get() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client)
        r = await get(client, "/latest/meta-data/instance-id", tok)
        assert (r.status_code, r.text) == (200, VIEW.instance_id)
        assert r.headers["content-type"] == "text/plain"
        assert int(r.headers["X-aws-ec2-metadata-token-ttl-seconds"]) <= 21600

    serve(body)


def test_v1_served_when_tokens_optional_refused_when_required() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        assert (await get(client, "/latest/meta-data/ami-id")).text == VIEW.image_id
        metadata.set(http_tokens=REQUIRED)
        r = await get(client, "/latest/meta-data/ami-id")
        assert r.status_code == 401
        assert "401 - Unauthorized" in r.text
        tok = await token(client)
        assert (await get(client, "/latest/meta-data/ami-id", tok)).text == VIEW.image_id

    serve(body)


@pytest.mark.parametrize("ttl", ["0", "21601", "-1", "abc", ""])
def test_token_ttl_out_of_bounds_is_400(ttl: str) -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        r = await client.put(
            "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": ttl}
        )
        assert r.status_code == 400

    serve(body)


def test_token_without_ttl_is_400_and_bounds_accepted() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        assert (await client.put("/latest/api/token")).status_code == 400
        await token(client, "1")
        await token(client, "21600")

    serve(body)


def test_token_put_through_a_proxy_is_refused() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        r = await client.put(
            "/latest/api/token",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.9"},
        )
        assert r.status_code == 403

    serve(body)


def test_expired_and_invalid_tokens_are_401() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client, "60")
        clock.advance(59)
        assert (await get(client, "/latest/meta-data/", tok)).status_code == 200
        clock.advance(2)
        assert (await get(client, "/latest/meta-data/", tok)).status_code == 401
        assert (await get(client, "/latest/meta-data/", "not-a-token")).status_code == 401
        tampered = (await token(client))[:-4] + "AAAA"
        assert (await get(client, "/latest/meta-data/", tampered)).status_code == 401

    serve(body)


def test_a_token_is_bound_to_its_instance() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client)
        # Another instance now has this address: the first instance's token is not its own.
        metadata.set(instance_id="i-0fedcba9876543210")
        assert (await get(client, "/latest/meta-data/instance-id", tok)).status_code == 401

    serve(body)


def test_token_path_only_takes_put_and_other_methods_are_405() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        assert (await client.get("/latest/api/token")).status_code == 405
        assert (await client.post("/latest/meta-data/")).status_code == 405
        assert (await client.put("/latest/meta-data/")).status_code == 405

    serve(body)


def test_disabled_endpoint_and_unknown_peer_are_403() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        metadata.set(endpoint_enabled=False)
        assert (await get(client, "/latest/meta-data/")).status_code == 403
        r = await client.put(
            "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}
        )
        assert r.status_code == 403
        metadata.views.clear()
        assert (await get(client, "/latest/meta-data/")).status_code == 403

    serve(body)


LEAVES = {
    "ami-id": VIEW.image_id,
    "instance-id": VIEW.instance_id,
    "instance-type": VIEW.instance_type,
    "hostname": VIEW.hostname,
    "local-hostname": VIEW.hostname,
    "local-ipv4": VIEW.private_ip,
    "mac": VIEW.mac,
    "placement/availability-zone": VIEW.availability_zone,
    "placement/region": VIEW.region,
    "security-groups": "web\ndefault",
    f"network/interfaces/macs/{VIEW.mac}/device-number": "0",
    f"network/interfaces/macs/{VIEW.mac}/local-ipv4s": VIEW.private_ip,
    f"network/interfaces/macs/{VIEW.mac}/subnet-id": VIEW.subnet_id,
    f"network/interfaces/macs/{VIEW.mac}/vpc-id": VIEW.vpc_id,
    f"network/interfaces/macs/{VIEW.mac}/subnet-ipv4-cidr-block": VIEW.subnet_cidr,
    f"network/interfaces/macs/{VIEW.mac}/vpc-ipv4-cidr-block": VIEW.vpc_cidr,
    f"network/interfaces/macs/{VIEW.mac}/security-group-ids": "sg-01\nsg-02",
    "tags/instance/Name": "web-1",
    "tags/instance/team": "blue",
}


def test_every_category() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client)
        for path, expected in LEAVES.items():
            r = await get(client, f"/latest/meta-data/{path}", tok)
            assert (path, r.status_code, r.text) == (path, 200, expected)
            # A leaf with a trailing slash is the leaf (botocore asks for the zone so).
            r = await get(client, f"/latest/meta-data/{path}/", tok)
            assert (path, r.status_code, r.text) == (path, 200, expected)

    serve(body)


def test_listings_end_directories_with_a_slash() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client)
        top = (await get(client, "/latest/meta-data/", tok)).text.split("\n")
        for entry in ["ami-id", "instance-id", "local-ipv4", "mac", "security-groups"]:
            assert entry in top
        for entry in ["placement/", "network/", "iam/", "tags/"]:
            assert entry in top
        assert (await get(client, "/latest/meta-data", tok)).text.split("\n") == top
        assert (await get(client, "/", tok)).text == "latest"
        latest = (await get(client, "/latest/", tok)).text.split("\n")
        assert latest == ["dynamic/", "meta-data/", "user-data"]
        macs = await get(client, "/latest/meta-data/network/interfaces/macs/", tok)
        assert macs.text == f"{VIEW.mac}/"
        tags = await get(client, "/latest/meta-data/tags/instance/", tok)
        assert tags.text == "Name\nteam"  # keys only: values are leaves
        identity = await get(client, "/latest/dynamic/instance-identity/", tok)
        assert identity.text == "document\nsignature"

    serve(body)


def test_unknown_paths_are_404() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client)
        for path in [
            "/latest/meta-data/nope",
            "/latest/meta-data/ami-id/x",
            "/latest/meta-data/placement/availability-zone/x",
            "/latest/meta-data/network/interfaces/macs/00:00:00:00:00:00/",
            "/2009-04-04/meta-data/",
            "/other",
        ]:
            r = await get(client, path, tok)
            assert (path, r.status_code) == (path, 404)
            assert "404 - Not Found" in r.text

    serve(body)


def test_tags_and_iam_only_when_present() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        metadata.set(tags=None, role_name=None, instance_profile_arn=None)
        tok = await token(client)
        top = (await get(client, "/latest/meta-data/", tok)).text.split("\n")
        assert "tags/" not in top and "iam/" not in top
        assert (await get(client, "/latest/meta-data/tags/instance/", tok)).status_code == 404
        assert (await get(client, "/latest/meta-data/iam/info", tok)).status_code == 404

    serve(body)


def test_role_credentials_json() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client)
        roles = await get(client, "/latest/meta-data/iam/security-credentials/", tok)
        assert roles.text == "app-role"
        r = await get(client, "/latest/meta-data/iam/security-credentials/app-role", tok)
        doc = json.loads(r.text)
        assert doc["Code"] == "Success" and doc["Type"] == "AWS-HMAC"
        assert "LastUpdated" in doc
        for key, value in CREDENTIALS.items():
            assert doc[key] == value
        assert metadata.credential_calls == [VIEW.instance_id, VIEW.instance_id]
        info = json.loads((await get(client, "/latest/meta-data/iam/info", tok)).text)
        assert info["Code"] == "Success"
        assert info["InstanceProfileArn"] == VIEW.instance_profile_arn
        missing = await get(client, "/latest/meta-data/iam/security-credentials/other", tok)
        assert missing.status_code == 404

    serve(body)


def test_user_data_and_its_absence() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client)
        r = await get(client, "/latest/user-data", tok)
        assert r.content == VIEW.user_data
        metadata.set(user_data=None)
        assert (await get(client, "/latest/user-data", tok)).status_code == 404
        assert "user-data" not in (await get(client, "/latest/", tok)).text

    serve(body)


def test_identity_document_and_signature() -> None:
    async def body(client: Client, metadata: FakeMetadata, clock: ManualClock) -> None:
        tok = await token(client)
        r = await get(client, "/latest/dynamic/instance-identity/document", tok)
        doc = json.loads(r.text)
        assert doc["accountId"] == VIEW.account_id
        assert doc["availabilityZone"] == VIEW.availability_zone
        assert doc["imageId"] == VIEW.image_id
        assert doc["instanceId"] == VIEW.instance_id
        assert doc["instanceType"] == VIEW.instance_type
        assert doc["privateIp"] == VIEW.private_ip
        assert doc["region"] == VIEW.region
        assert doc["pendingTime"] == "2023-11-14T22:13:20Z"
        assert doc["version"] == "2017-09-30"
        assert doc["architecture"] in ("x86_64", "arm64")
        assert r.content == identity_document(VIEW)
        signature = await get(client, "/latest/dynamic/instance-identity/signature", tok)
        assert signature.text == sign(r.content)

    serve(body)


async def raw(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return data


def test_oversized_request_line_and_headers_are_refused() -> None:
    async def main() -> None:
        clock = ManualClock()
        server = ImdsServer(FakeMetadata(), clock, "127.0.0.1", 0)
        await server.start()
        try:
            long_url = b"GET /latest/meta-data/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
            assert (await raw(server.port, long_url)).startswith(b"HTTP/1.1 400")
            headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(20))
            big_head = b"GET /latest/meta-data/ HTTP/1.1\r\n" + headers + b"\r\n"
            assert (await raw(server.port, big_head)).startswith(b"HTTP/1.1 400")
            body = b"x" * 5000
            put = (
                b"PUT /latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 5\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            assert (await raw(server.port, put)).startswith(b"HTTP/1.1 413")
            garbage = b"NOT HTTP AT ALL\r\n\r\n"
            assert (await raw(server.port, garbage)).startswith(b"HTTP/1.1 400")
        finally:
            await server.stop()

    asyncio.run(main())


def test_pipelined_requests_are_answered_in_order() -> None:
    async def main() -> None:
        clock = ManualClock()
        server = ImdsServer(FakeMetadata(), clock, "127.0.0.1", 0)
        await server.start()
        try:
            one = b"GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: x\r\n\r\n"
            two = b"GET /latest/meta-data/ami-id HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            data = await raw(server.port, one + two)
            assert data.count(b"HTTP/1.1 200 OK") == 2
            assert data.index(VIEW.instance_id.encode()) < data.index(VIEW.image_id.encode())
        finally:
            await server.stop()

    asyncio.run(main())


def test_slow_headers_get_408_and_idle_connections_close() -> None:
    async def main() -> None:
        clock = ManualClock()
        server = ImdsServer(
            FakeMetadata(), clock, "127.0.0.1", 0, header_timeout=0.2, idle_timeout=0.2
        )
        await server.start()
        try:
            trickle = b"GET /latest/meta-data/ HTTP/1.1\r\nHost: x\r\n"  # never finished
            assert (await raw(server.port, trickle)).startswith(b"HTTP/1.1 408")
            slow_body = (
                b"PUT /latest/api/token HTTP/1.1\r\nX-aws-ec2-metadata-token-ttl-seconds: 5\r\n"
                b"Content-Length: 100\r\n\r\nonly part of it"
            )
            assert (await raw(server.port, slow_body)).startswith(b"HTTP/1.1 408")
            assert await raw(server.port, b"") == b""  # idle: closed, nothing written
        finally:
            await server.stop()

    asyncio.run(main())
