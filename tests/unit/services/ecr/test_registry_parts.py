"""Manifests, byte ranges, repository names and registry tokens."""

from __future__ import annotations

import json

import pytest

from dockyard.services.ecr import manifests
from dockyard.services.ecr.ranges import BadRange, parse_range
from dockyard.services.ecr.repositories import valid_name
from dockyard.services.ecr.tokens import Caller, Tokens, scope_of_host

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64


def test_docker_manifest_references_and_size() -> None:
    doc = {
        "schemaVersion": 2,
        "mediaType": manifests.MediaType.DOCKER_MANIFEST,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": D1, "size": 10},
        "layers": [{"mediaType": "x", "digest": D2, "size": 100}],
    }  # fmt: skip
    parsed = manifests.parse(json.dumps(doc).encode(), None)
    assert parsed.blobs == [D1, D2] and parsed.size == 100
    assert parsed.artifact_media_type == "application/vnd.docker.container.image.v1+json"


def test_oci_index_without_media_type() -> None:
    doc = {"schemaVersion": 2, "manifests": [{"digest": D1, "size": 5}]}
    parsed = manifests.parse(json.dumps(doc).encode(), manifests.MediaType.OCI_INDEX)
    assert parsed.media_type == manifests.MediaType.OCI_INDEX and parsed.children == [D1]


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"not json", None),
        (b"[]", None),
        (json.dumps({"schemaVersion": 1}).encode(), None),
        (json.dumps({"schemaVersion": 2, "mediaType": "text/plain"}).encode(), None),
        (
            json.dumps(
                {"schemaVersion": 2, "config": {"digest": "md5:x", "size": 1}, "layers": []}
            ).encode(),
            None,
        ),
        (
            json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": manifests.MediaType.OCI_MANIFEST,
                    "config": {"digest": D1, "size": 1},
                    "layers": [],
                }
            ).encode(),
            manifests.MediaType.DOCKER_MANIFEST,
        ),
    ],
)
def test_invalid_manifests(body: bytes, content_type: str | None) -> None:
    with pytest.raises(manifests.ManifestInvalid):
        manifests.parse(body, content_type)


def test_ranges() -> None:
    assert parse_range(None, 10) == (0, 10)
    assert parse_range("bytes=2-4", 10) == (2, 5)
    assert parse_range("bytes=5-", 10) == (5, 10)
    assert parse_range("bytes=-3", 10) == (7, 10)
    assert parse_range("bytes=8-100", 10) == (8, 10)
    for bad in ("bytes=10-", "bytes=5-2", "items=1-2", "bytes=1-2,4-5", "bytes=-", "bytes=x-1"):
        with pytest.raises(BadRange):
            parse_range(bad, 10)


def test_repository_names() -> None:
    for good in ("ab", "team/app", "a.b-c_d/e1", "x" * 256):
        assert valid_name(good), good
    for bad in ("a", "App", "a//b", "-ab", "ab-", "a..b", "a/b/", "a b", "é1", "x" * 257):
        assert not valid_name(bad), bad


def test_tokens_round_trip_forgery_and_expiry() -> None:
    tokens = Tokens(b"k" * 32)
    caller = Caller("123456789012", "eu-west-1", "AKID", 1000.0)
    token = tokens.issue(caller)
    assert tokens.check(token, 999.0) == caller
    assert tokens.check(token, 1000.0) is None  # expired
    assert Tokens(b"j" * 32).check(token, 0.0) is None  # another server's key
    payload, _, mac = token.partition(".")
    assert tokens.check(payload[:-2] + "xx." + mac, 0.0) is None
    assert tokens.check("garbage", 0.0) is None


def test_ecr_host_names() -> None:
    scope = scope_of_host("123456789012.dkr.ecr.eu-west-1.localhost:4566")
    assert scope is not None and (scope.account_id, scope.region) == ("123456789012", "eu-west-1")
    assert scope_of_host("localhost:4566") is None
    assert scope_of_host("1234.dkr.ecr.eu-west-1.localhost") is None
