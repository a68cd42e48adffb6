"""Every shape type round-trips through botocore's own serializers and parsers, in every
protocol: the echo handler returns its parsed input as output."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.unit.api.conftest import ClientFactory, Server

WHEN = datetime(2024, 2, 29, 12, 30, 15, tzinfo=UTC)

FULL: dict[str, Any] = {
    "Name": "caf\u00e9 <&>",
    "Color": "GREEN",
    "Count": 42,
    "Big": 2**40,
    "Ratio": 1.5,
    "Precise": -2.25,
    "Enabled": False,
    "When": WHEN,
    "WhenIso": datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
    "WhenEpoch": datetime(2020, 1, 1, tzinfo=UTC),
    "Data": b"\x00\xffbinary",
    "Names": ["a", "b c", "d&e"],
    "Flat": ["f1", "f2"],
    "Items": [
        {"name": "one", "count": 1, "tags": {"k": "v", "k2": "v2"}, "when": WHEN},
        {"name": "two", "children": [{"name": "child", "count": 7}]},
    ],
    "Labels": {"env": "prod", "team": "x y"},
    "ItemsByName": {"a": {"name": "a", "count": 3}},
    "Matrix": [["1", "2"], ["3"]],
    "Inner": {"name": "inner", "tags": {"t": "u"}},
}

REST_EXTRA: dict[str, Any] = {
    "Id": "thing 1",
    "Path": "dir/sub dir/file.txt",
    "Limit": 10,
    "Filters": ["f=1", "g"],
    "Since": WHEN,
    "Token": "tok",
    "Modified": WHEN,
    "Flags": ["x", "y z"],
    "Verbose": True,
    "Meta": {"owner": "me"},
}

PROTOCOL_SERVICES = ["testjson", "testquery", "testcbor", "testrestjson", "testrestxml"]


def _clean(resp: dict[str, Any]) -> dict[str, Any]:
    resp.pop("ResponseMetadata", None)
    return resp


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


@pytest.mark.parametrize("service", PROTOCOL_SERVICES)
def test_every_shape_type_round_trips(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url)
    params = dict(FULL)
    rest = service.startswith("testrest")
    if rest:
        params.update(REST_EXTRA)
    resp = _clean(client.echo(**params))
    expected = dict(params)
    if rest:
        expected["Status"] = 201
    assert _normalise(resp) == _normalise(expected)


@pytest.mark.parametrize("service", PROTOCOL_SERVICES)
def test_empty_input_and_empty_lists(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url)
    kwargs: dict[str, Any] = {"Names": [], "Labels": {}}
    if service.startswith("testrest"):
        kwargs.update({"Id": "i", "Path": "p"})
    resp = _clean(client.echo(**kwargs))
    assert "Name" not in resp
    # Every protocol but query can tell an empty list from an absent one on the way back.
    assert resp.get("Names", []) == []


# botocore's CBOR serializer sends whole seconds, so CBOR is left out here.
@pytest.mark.parametrize("service", [s for s in PROTOCOL_SERVICES if s != "testcbor"])
def test_timestamps_keep_subsecond_precision(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url)
    when = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    kwargs: dict[str, Any] = {"WhenIso": when}
    if service.startswith("testrest"):
        kwargs.update({"Id": "i", "Path": "p"})
    resp = client.echo(**kwargs)
    assert resp["WhenIso"].astimezone(UTC) == when


@pytest.mark.parametrize("service", ["testrestjson", "testrestxml"])
def test_raw_blob_payload_and_header_members(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url)
    resp = client.upload(Id="x", Body=b"hello\x00world", ContentType="application/x-test")
    assert resp["Body"].read() == b"dlrow\x00olleh"
    assert resp["ContentType"] == "application/x-reversed"
    assert resp["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-reversed"


@pytest.mark.parametrize("service", ["testrestjson", "testrestxml"])
def test_structure_payload(service: str, server: Server, make_client: ClientFactory) -> None:
    client = make_client(service, server.url)
    doc = {"Item": {"name": "n", "count": 5, "tags": {"a": "b"}}, "Note": "note"}
    resp = client.put_doc(Id="d", Doc=doc)
    assert resp["Doc"] == doc


def test_rest_xml_request_id_headers(server: Server, make_client: ClientFactory) -> None:
    resp = make_client("testrestxml", server.url).echo(Id="i", Path="p")
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-request-id"] == headers["x-amzn-requestid"]
    assert resp["ResponseMetadata"]["RequestId"] == headers["x-amzn-requestid"]


@pytest.mark.parametrize("variant", ["client-json", "client-query", "client-smithy-rpc-v2-cbor"])
def test_a_multi_protocol_service_accepts_each_protocol(
    variant: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client("testmulti", server.url, variant=variant)
    resp = _clean(client.echo(Name="multi", Items=[{"name": "i", "when": WHEN}]))
    assert _normalise(resp) == {"Name": "multi", "Items": [{"name": "i", "when": WHEN}]}


@pytest.mark.parametrize("variant", ["client-json", "client-query", "client-smithy-rpc-v2-cbor"])
def test_query_compatible_errors_carry_the_query_code(
    variant: str, server: Server, make_client: ClientFactory
) -> None:
    from botocore.exceptions import ClientError

    client = make_client("testmulti", server.url, variant=variant)
    with pytest.raises(ClientError) as info:
        client.fail(Code="ResourceNotFound", Message="gone", Status=404)
    err = info.value.response
    assert err["Error"]["Code"] == "ResourceNotFound"
    assert err["Error"]["Message"] == "gone"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    if variant != "client-query":
        assert err["ResponseMetadata"]["HTTPHeaders"]["x-amzn-query-error"] == (
            "ResourceNotFound;Sender"
        )
