"""SigV4 verification, accounts from access keys, regions from the credential scope."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.unit.api.conftest import ClientFactory, Server
from tests.unit.api.rawhttp import request

SIGNED = ["testjson", "testquery", "testrestxml"]


def _whoami(client: Any) -> tuple[str, str, str]:
    resp = client.whoami()
    return resp["Name"], resp["Names"][0], resp["Names"][1]


@pytest.mark.parametrize("service", SIGNED)
def test_a_good_signature_passes(
    service: str, secure_server: Server, make_client: ClientFactory
) -> None:
    client = make_client(
        service, secure_server.url, key="AKIDGOOD", secret="secret", region="eu-west-3"
    )
    account, region, _ = _whoami(client)
    assert account == "000000000000"
    assert region == "eu-west-3"


def test_a_12_digit_access_key_is_the_account(
    secure_server: Server, make_client: ClientFactory
) -> None:
    client = make_client("testjson", secure_server.url, key="123456789012", secret="acct-secret")
    assert _whoami(client)[0] == "123456789012"


@pytest.mark.parametrize(
    ("service", "code"),
    [
        ("testjson", "InvalidSignatureException"),
        ("testquery", "SignatureDoesNotMatch"),
        ("testrestxml", "SignatureDoesNotMatch"),
    ],
)
def test_a_wrong_secret_is_refused(
    service: str, code: str, secure_server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, secure_server.url, key="AKIDGOOD", secret="wrong")
    with pytest.raises(ClientError) as info:
        client.whoami()
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize(
    ("service", "code"),
    [
        ("testjson", "UnrecognizedClientException"),
        ("testquery", "InvalidClientTokenId"),
        ("testrestxml", "InvalidClientTokenId"),
    ],
)
def test_an_unknown_key_is_refused(
    service: str, code: str, secure_server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, secure_server.url, key="AKIDWHO", secret="secret")
    with pytest.raises(ClientError) as info:
        client.whoami()
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unsigned_request_is_refused_when_credentials_are_configured(
    secure_server: Server,
) -> None:
    reply = request(
        secure_server.url,
        "POST",
        "/",
        b"{}",
        {
            "X-Amz-Target": "TestjsonService.Whoami",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    assert reply.status == 403
    assert reply.json()["__type"] == "MissingAuthenticationToken"


def test_without_configured_credentials_anything_goes(
    server: Server, make_client: ClientFactory
) -> None:
    client = make_client(
        "testjson", server.url, key="210987654321", secret="whatever", region="ap-south-1"
    )
    account, region, protocol = _whoami(client)
    assert (account, region, protocol) == ("210987654321", "ap-south-1", "json")
    reply = request(
        server.url,
        "POST",
        "/",
        b"{}",
        {
            "X-Amz-Target": "TestjsonService.Whoami",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    assert reply.status == 200
    assert reply.json()["Name"] == "000000000000"
    assert reply.json()["Names"][0] == "us-east-1"


def test_each_request_has_its_own_id(server: Server, make_client: ClientFactory) -> None:
    client = make_client("testjson", server.url)
    first = client.whoami()
    second = client.whoami()
    assert first["Names"][2] == first["ResponseMetadata"]["RequestId"]
    assert first["Names"][2] != second["Names"][2]
