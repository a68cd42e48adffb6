"""SigV4 as AWS checks it, on a server started with --auth-file: the date within 15 minutes,
presigned URLs within X-Amz-Expires, the body's hash computed by the server (a swapped body
or a replayed signature is refused), `host` and `x-amz-date` signed, keys scoped to an
account, and Dockyard's own routes signed like any AWS call."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.security.sigv4_support import (
    KEY,
    REGION,
    SCOPED_ACCOUNT,
    SCOPED_KEY,
    ecs_call,
    elbv2_call,
    now,
    presign,
    send,
    sign,
)
from tests.support.server import DockyardProcess, signed_headers


def _client(service: str, server: DockyardProcess, credentials: tuple[str, str] = KEY) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
        config=Config(retries={"max_attempts": 1}),
    )


def _cluster_names(server: DockyardProcess) -> set[str]:
    arns = _client("ecs", server).list_clusters()["clusterArns"]
    return {arn.rsplit("/", 1)[1] for arn in arns}


# -- the date -------------------------------------------------------------------------------


def test_a_request_signed_in_2015_is_refused(sigv4_server: DockyardProcess) -> None:
    when = datetime.datetime(2015, 1, 1, tzinfo=datetime.UTC)
    url, body, headers = ecs_call(
        sigv4_server.endpoint, "CreateCluster", {"clusterName": "from-2015"}, when=when
    )
    reply = send("POST", url, body, headers)
    assert reply.status == 403
    assert reply.code == "InvalidSignatureException"
    assert reply.message.startswith("Signature expired: 20150101T000000Z is now earlier than ")
    assert "from-2015" not in _cluster_names(sigv4_server)


def test_a_20_minute_old_date_is_refused_and_a_10_minute_old_one_is_not(
    sigv4_server: DockyardProcess,
) -> None:
    stale = now() - datetime.timedelta(minutes=20)
    url, body, headers = ecs_call(
        sigv4_server.endpoint, "CreateCluster", {"clusterName": "stale"}, when=stale
    )
    reply = send("POST", url, body, headers)
    assert (reply.status, reply.code) == (403, "InvalidSignatureException")
    assert "Signature expired" in reply.message
    skewed = now() - datetime.timedelta(minutes=10)
    url, body, headers = ecs_call(
        sigv4_server.endpoint, "CreateCluster", {"clusterName": "skewed"}, when=skewed
    )
    assert send("POST", url, body, headers).status == 200
    names = _cluster_names(sigv4_server)
    assert "skewed" in names and "stale" not in names


def test_a_date_20_minutes_ahead_is_refused(sigv4_server: DockyardProcess) -> None:
    ahead = now() + datetime.timedelta(minutes=20)
    url, body, headers = ecs_call(sigv4_server.endpoint, "ListClusters", {}, when=ahead)
    reply = send("POST", url, body, headers)
    assert (reply.status, reply.code) == (403, "InvalidSignatureException")
    assert reply.message.startswith("Signature not yet current: ")


def test_a_stale_query_request_answers_signature_does_not_match(
    sigv4_server: DockyardProcess,
) -> None:
    stale = now() - datetime.timedelta(minutes=20)
    url, body, headers = elbv2_call(
        sigv4_server.endpoint, "Action=DescribeLoadBalancers&Version=2015-12-01", when=stale
    )
    reply = send("POST", url, body, headers)
    assert reply.status == 403
    assert reply.code == "SignatureDoesNotMatch"
    assert reply.message.startswith("Signature expired: ")


def test_a_presigned_url_works_until_it_expires(sigv4_server: DockyardProcess) -> None:
    target = f"{sigv4_server.endpoint}/?Action=DescribeLoadBalancers&Version=2015-12-01"
    fresh = presign(target, "elasticloadbalancing", when=now(), expires=300)
    reply = send("GET", fresh)
    assert reply.status == 200, reply.body
    assert b"DescribeLoadBalancersResponse" in reply.body
    expired = presign(
        target, "elasticloadbalancing", when=now() - datetime.timedelta(minutes=2), expires=60
    )
    reply = send("GET", expired)
    assert reply.status == 403
    assert reply.code == "SignatureDoesNotMatch"
    assert reply.message.startswith("Signature expired: ")


# -- the body -------------------------------------------------------------------------------


def test_a_swapped_body_with_an_unsigned_content_hash_is_refused(
    sigv4_server: DockyardProcess,
) -> None:
    url, benign, headers = ecs_call(
        sigv4_server.endpoint, "CreateCluster", {"clusterName": "benign"}
    )
    evil = json.dumps({"clusterName": "evil"}).encode()
    headers["X-Amz-Content-SHA256"] = hashlib.sha256(benign).hexdigest()
    reply = send("POST", url, evil, headers)
    assert (reply.status, reply.code) == (403, "InvalidSignatureException")
    headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    reply = send("POST", url, evil, headers)
    assert (reply.status, reply.code) == (403, "InvalidSignatureException")
    assert "evil" not in _cluster_names(sigv4_server)
    # The signed request itself still goes through.
    del headers["X-Amz-Content-SHA256"]
    assert send("POST", url, benign, headers).status == 200
    assert "benign" in _cluster_names(sigv4_server)


def test_a_signed_content_hash_that_does_not_match_the_body_is_refused(
    sigv4_server: DockyardProcess,
) -> None:
    body = json.dumps({"clusterName": "claimed"}).encode()
    url = f"{sigv4_server.endpoint}/"
    headers = {
        "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.CreateCluster",
        "Content-Type": "application/x-amz-json-1.1",
        # Signed, and names the hash of another body.
        "X-Amz-Content-SHA256": hashlib.sha256(b'{"clusterName": "other"}').hexdigest(),
    }
    signed = sign("POST", url, body, headers, "ecs")
    reply = send("POST", url, body, signed)
    assert (reply.status, reply.code) == (403, "InvalidSignatureException")
    assert "claimed" not in _cluster_names(sigv4_server)


def test_a_replayed_describe_with_a_create_body_is_refused(
    sigv4_server: DockyardProcess,
) -> None:
    form = "Action=DescribeLoadBalancers&Version=2015-12-01"
    url, body, headers = elbv2_call(sigv4_server.endpoint, form)
    assert send("POST", url, body, headers).status == 200
    create = (
        b"Action=CreateTargetGroup&Version=2015-12-01&Name=replayed&Protocol=HTTP&Port=80"
        b"&TargetType=ip&VpcId=vpc-00000000"
    )
    reply = send("POST", url, create, headers)
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")
    headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    reply = send("POST", url, create, headers)
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")
    groups = _client("elbv2", sigv4_server).describe_target_groups()["TargetGroups"]
    assert "replayed" not in {g["TargetGroupName"] for g in groups}


# -- what must be signed --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unsigned", "message"),
    [
        ("host", "'Host' or ':authority' must be a 'SignedHeader'"),
        ("x-amz-date", "'X-Amz-Date' must be a 'SignedHeader'"),
    ],
)
def test_host_and_x_amz_date_must_be_signed(
    sigv4_server: DockyardProcess, unsigned: str, message: str
) -> None:
    url, body, headers = ecs_call(
        sigv4_server.endpoint,
        "CreateCluster",
        {"clusterName": f"no-{unsigned}"},
        unsigned=(unsigned,),
    )
    reply = send("POST", url, body, headers)
    assert (reply.status, reply.code) == (403, "IncompleteSignatureException")
    assert message in reply.message
    assert f"no-{unsigned}" not in _cluster_names(sigv4_server)


def test_a_request_without_x_amz_date_is_refused(sigv4_server: DockyardProcess) -> None:
    url, body, headers = ecs_call(sigv4_server.endpoint, "ListClusters", {})
    headers = {k: v for k, v in headers.items() if k.lower() != "x-amz-date"}
    reply = send("POST", url, body, headers)
    assert (reply.status, reply.code) == (403, "IncompleteSignatureException")


# -- accounts -------------------------------------------------------------------------------


def test_a_key_scoped_to_an_account_acts_in_it(sigv4_server: DockyardProcess) -> None:
    scoped = _client("ecs", sigv4_server, SCOPED_KEY)
    arn = scoped.create_cluster(clusterName="scoped")["cluster"]["clusterArn"]
    assert f":{SCOPED_ACCOUNT}:cluster/scoped" in arn
    assert "scoped" in {a.rsplit("/", 1)[1] for a in scoped.list_clusters()["clusterArns"]}
    # The two-column key acts in the default account, which has no such cluster.
    assert "scoped" not in _cluster_names(sigv4_server)
    default_arn = _client("ecs", sigv4_server).create_cluster(clusterName="plain")
    assert ":000000000000:cluster/plain" in default_arn["cluster"]["clusterArn"]


def test_an_unknown_key_is_refused(sigv4_server: DockyardProcess) -> None:
    with pytest.raises(ClientError) as info:
        _client("ecs", sigv4_server, ("AKIDNOBODY", "whatever")).list_clusters()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# -- Dockyard's own routes ------------------------------------------------------------------


def test_reset_needs_a_signature(sigv4_server: DockyardProcess) -> None:
    _client("ecs", sigv4_server).create_cluster(clusterName="before-reset")
    url = f"{sigv4_server.endpoint}/_dockyard/reset"
    reply = send("POST", url)
    assert (reply.status, reply.code) == (403, "MissingAuthenticationToken")
    reply = send("POST", url, headers=signed_headers("POST", url, ("AKIDNOBODY", "x")))
    assert (reply.status, reply.code) == (403, "UnrecognizedClientException")
    reply = send("POST", url, headers=signed_headers("POST", url, (KEY[0], "wrong-secret")))
    assert (reply.status, reply.code) == (403, "InvalidSignatureException")
    assert "before-reset" in _cluster_names(sigv4_server)
    sigv4_server.reset()  # signs with the auth file's first key
    assert "before-reset" not in _cluster_names(sigv4_server)
    reply = send("POST", url, headers=signed_headers("POST", url, SCOPED_KEY))
    assert reply.status == 200


def test_other_internal_routes_need_a_signature_and_health_tells_little(
    sigv4_server: DockyardProcess,
) -> None:
    reply = send("GET", f"{sigv4_server.endpoint}/_dockyard/anything")
    assert (reply.status, reply.code) == (403, "MissingAuthenticationToken")
    url = f"{sigv4_server.endpoint}/_dockyard/anything"
    assert send("GET", url, headers=signed_headers("GET", url, KEY)).status == 404
    health = send("GET", f"{sigv4_server.endpoint}/_dockyard/health")
    assert health.status == 200
    assert set(health.json()) == {"status", "pid"}
    assert health.json()["pid"] == sigv4_server.health()["pid"]
