"""Malformed and invalid requests get 4xx AWS errors that name the problem, and the
server keeps serving."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest
from botocore.exceptions import ClientError

from tests.unit.api.conftest import ClientFactory, Server
from tests.unit.api.rawhttp import json_call, request, scope_header

# The validation error code each test provider declared (testcbor keeps the default).
CODES = {
    "testjson": "InvalidParameterException",
    "testquery": "ValidationError",
    "testcbor": "ValidationException",
    "testrestjson": "ValidationException",
    "testrestxml": "ValidationException",
}


def _error(client: Any, method: str, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        getattr(client, method)(**kwargs)
    response: dict[str, Any] = info.value.response
    return response


@pytest.mark.parametrize("service", list(CODES))
def test_missing_required_member(service: str, server: Server, make_client: ClientFactory) -> None:
    client = make_client(service, server.url, validate=False)
    err = _error(client, "fail", Message="no code")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Error"]["Code"] == CODES[service]
    assert err["Error"]["Message"] == (
        "1 validation error detected: Value null at 'Code' failed to satisfy constraint: "
        "Member must not be null"
    )


@pytest.mark.parametrize("service", list(CODES))
def test_enum_range_length_and_nested_violations(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url, validate=False)
    kwargs: dict[str, Any] = {
        "Color": "BLUE",
        "Count": 500,
        "Name": "x" * 21,
        "Items": [{"name": "ok"}, {"count": 0}],
    }
    if service.startswith("testrest"):
        kwargs.update({"Id": "i", "Path": "p"})
    err = _error(client, "echo", **kwargs)
    message = err["Error"]["Message"]
    assert err["Error"]["Code"] == CODES[service]
    assert message.startswith("5 validation errors detected: ")
    assert (
        "Value 'BLUE' at 'Color' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RED, GREEN]"
    ) in message
    assert (
        "Value '500' at 'Count' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    ) in message
    assert (
        "at 'Name' failed to satisfy constraint: Member must have length less than or "
        "equal to 20" in message
    )
    assert "Value null at 'Items.2.member.name'" in message
    assert (
        "Value '0' at 'Items.2.member.count' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    ) in message


def test_list_too_long(server: Server, make_client: ClientFactory) -> None:
    client = make_client("testjson", server.url, validate=False)
    err = _error(client, "echo", Items=[{"name": str(i)} for i in range(6)])
    assert (
        "at 'Items' failed to satisfy constraint: Member must have length less than or "
        "equal to 5" in err["Error"]["Message"]
    )


@pytest.mark.parametrize(
    ("body", "member", "kind"),
    [
        ({"Count": "abc"}, "Count", "integer"),
        ({"Enabled": "yes"}, "Enabled", "boolean"),
        ({"Name": 5}, "Name", "string"),
        ({"Names": "not-a-list"}, "Names", "list"),
        ({"Labels": ["x"]}, "Labels", "map"),
        ({"When": "not a date"}, "When", "timestamp"),
        ({"Data": "!!not base64!!"}, "Data", "blob"),
        ({"Inner": "flat"}, "Inner", "structure"),
    ],
)
def test_wrong_json_types_name_the_member(
    body: dict[str, Any], member: str, kind: str, server: Server
) -> None:
    reply = json_call(server.url, "TestjsonService.Echo", body)
    assert reply.status == 400
    doc = reply.json()
    assert doc["__type"] == "InvalidParameterException"
    assert f"at '{member}'" in doc["message"]
    assert kind in doc["message"]


def test_query_value_that_is_not_a_number(server: Server) -> None:
    reply = request(
        server.url,
        "POST",
        "/",
        b"Action=Echo&Version=2024-01-01&Count=many",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": scope_header("testquery"),
        },
    )
    assert reply.status == 400
    assert b"<Code>ValidationError</Code>" in reply.body
    assert b"Value 'many' at 'Count' failed to satisfy constraint" in reply.body


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b"\xff\xfe", b'"string"'],
)
def test_json_body_that_is_not_an_object(body: bytes, server: Server) -> None:
    reply = json_call(server.url, "TestjsonService.Echo", body)
    assert reply.status == 400
    assert reply.json()["__type"] == "SerializationException"
    assert reply.headers["x-amzn-errortype"] == "SerializationException"


def test_cbor_body_that_is_not_cbor(server: Server) -> None:
    headers = {"Smithy-Protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
    for body in (b"\xff\x00garbage", cbor2.dumps([1, 2])):
        reply = request(
            server.url, "POST", "/service/TestcborService/operation/Echo", body, headers
        )
        assert reply.status == 400
        assert reply.headers["smithy-protocol"] == "rpc-v2-cbor"
        assert cbor2.loads(reply.body)["__type"] == "SerializationException"


def test_rest_xml_body_that_is_not_xml(server: Server) -> None:
    reply = request(
        server.url,
        "POST",
        "/things/a/files/b?echo",
        b"<EchoRequest><Name>",
        {"Authorization": scope_header("testrestxml")},
    )
    assert reply.status == 400
    assert b"<Code>SerializationException</Code>" in reply.body


def test_rest_json_body_that_is_not_json(server: Server) -> None:
    reply = request(
        server.url,
        "POST",
        "/things/a/files/b?echo",
        b"{oops",
        {"Authorization": scope_header("testrestjson")},
    )
    assert reply.status == 400
    assert reply.json()["__type"] == "SerializationException"


def test_form_without_action(server: Server) -> None:
    reply = request(
        server.url,
        "POST",
        "/",
        b"Version=2024-01-01&Name=x",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": scope_header("testquery"),
        },
    )
    assert reply.status == 400
    assert b"<Code>MissingAction</Code>" in reply.body


def test_unknown_query_action(server: Server) -> None:
    reply = request(
        server.url,
        "POST",
        "/",
        b"Action=Nope&Version=2024-01-01",
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": scope_header("testquery"),
        },
    )
    assert reply.status == 400
    assert b"<Code>InvalidAction</Code>" in reply.body


def test_query_action_in_the_query_string(server: Server) -> None:
    reply = request(
        server.url,
        "GET",
        "/?Action=Echo&Version=2024-01-01&Name=via-get",
        headers={"Authorization": scope_header("testquery")},
    )
    assert reply.status == 200
    assert b"<Name>via-get</Name>" in reply.body
    assert b"<EchoResult>" in reply.body


def test_unroutable_rest_request(server: Server) -> None:
    reply = request(
        server.url, "GET", "/no/such/path", headers={"Authorization": scope_header("testrestjson")}
    )
    assert reply.status == 404
    assert reply.json()["__type"] == "UnknownOperationException"
    reply = request(server.url, "GET", "/no/such/path")
    assert reply.status in (400, 403, 404)
    assert reply.json()["__type"]


def test_server_keeps_serving_after_bad_requests(
    server: Server, make_client: ClientFactory
) -> None:
    for body in (b"{", b"\x00" * 10, b""):
        json_call(server.url, "TestjsonService.Echo", body)
    assert make_client("testjson", server.url).echo(Name="ok")["Name"] == "ok"


@pytest.mark.parametrize("service", ["testquery", "testrestxml"])
def test_control_characters_in_a_bad_value_keep_the_xml_error_parseable(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url, validate=False)
    kwargs: dict[str, Any] = {"Color": "\x1f"}
    if service.startswith("testrest"):
        kwargs.update({"Id": "i", "Path": "p"})
    err = _error(client, "echo", **kwargs)  # botocore raises ResponseParserError on bad XML
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Error"]["Code"] in (CODES[service], "SerializationException")


def test_control_characters_in_an_answer_keep_the_xml_parseable(
    server: Server, make_client: ClientFactory
) -> None:
    client = make_client("testquery", server.url, validate=False)
    assert client.echo(Name="a\x01b")["Name"] == "a\ufffdb"


def test_json_string_with_an_unpaired_surrogate_is_a_serialization_error(server: Server) -> None:
    reply = json_call(server.url, "TestjsonService.Echo", b'{"Name": "a\\ud800"}')
    assert reply.status == 400
    assert reply.json()["__type"] == "SerializationException"
    assert "surrogate" in reply.json()["message"]
    paired = json_call(server.url, "TestjsonService.Echo", b'{"Name": "\\ud83d\\ude00"}')
    assert paired.status == 200
    assert paired.json()["Name"] == "\U0001f600"


def test_null_list_items_and_map_values_are_named(server: Server) -> None:
    body = {"Items": [{"name": "a"}, None], "Labels": {"k": None}}
    reply = json_call(server.url, "TestjsonService.Echo", body)
    assert reply.status == 400
    assert reply.json()["__type"] == "InvalidParameterException"
    message = reply.json()["message"]
    assert message.startswith("2 validation errors detected: ")
    assert "Value null at 'Items.2.member' failed to satisfy constraint" in message
    assert "Value null at 'Labels.k' failed to satisfy constraint" in message


def test_deeply_nested_documents_are_serialization_errors(server: Server) -> None:
    deep_json = b'{"Name": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    reply = json_call(server.url, "TestjsonService.Echo", deep_json)
    assert (reply.status, reply.json()["__type"]) == (400, "SerializationException")
    reply = request(
        server.url,
        "POST",
        "/things/a/files/b?echo",
        deep_json,
        {"Authorization": scope_header("testrestjson")},
    )
    assert (reply.status, reply.json()["__type"]) == (400, "SerializationException")
    deep_xml = b"<EchoRequest>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</EchoRequest>"
    reply = request(
        server.url,
        "POST",
        "/things/a/files/b?echo",
        deep_xml,
        {"Authorization": scope_header("testrestxml")},
    )
    assert reply.status == 400
    assert b"<Code>SerializationException</Code>" in reply.body
    assert b"nests deeper than 100 levels" in reply.body
