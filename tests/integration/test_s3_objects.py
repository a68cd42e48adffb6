"""S3 buckets and objects through boto3 against a real server: what a user sees."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess


@pytest.fixture
def s3(dockyard: DockyardProcess) -> Any:
    return make_client("s3", dockyard.endpoint)


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_bucket_lifecycle_and_errors(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-basic")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "objects-basic" in names
    assert s3.get_bucket_location(Bucket="objects-basic")["LocationConstraint"] is None
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="objects-basic")
    assert _code(err) == "BucketAlreadyOwnedByYou"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as err:
        s3.create_bucket(Bucket="Bad_Name")
    assert _code(err) == "InvalidBucketName"
    with pytest.raises(ClientError) as err:
        s3.create_bucket(
            Bucket="objects-loc", CreateBucketConfiguration={"LocationConstraint": "us-east-1"}
        )
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "LocationConstraint" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        s3.head_bucket(Bucket="objects-missing")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as err:
        s3.list_objects_v2(Bucket="objects-missing")
    assert _code(err) == "NoSuchBucket"
    s3.put_object(Bucket="objects-basic", Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.delete_bucket(Bucket="objects-basic")
    assert _code(err) == "BucketNotEmpty"
    s3.delete_object(Bucket="objects-basic", Key="k")
    s3.delete_bucket(Bucket="objects-basic")
    assert "objects-basic" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_put_get_metadata_checksums_and_ranges(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-rw")
    body = bytes(range(256)) * 40
    put = s3.put_object(
        Bucket="objects-rw",
        Key="dir/file.bin",
        Body=body,
        ContentType="application/x-test",
        Metadata={"Owner": "me"},
        ChecksumAlgorithm="SHA256",
    )
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    assert put["ChecksumSHA256"]
    got = s3.get_object(Bucket="objects-rw", Key="dir/file.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"owner": "me"}
    assert got["ChecksumSHA256"] == put["ChecksumSHA256"]
    assert got["ContentLength"] == len(body)
    part = s3.get_object(Bucket="objects-rw", Key="dir/file.bin", Range="bytes=10-19")
    assert part["Body"].read() == body[10:20]
    assert part["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    tail = s3.get_object(Bucket="objects-rw", Key="dir/file.bin", Range="bytes=-5")
    assert tail["Body"].read() == body[-5:]
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="objects-rw", Key="dir/file.bin", Range=f"bytes={len(body)}-")
    assert _code(err) == "InvalidRange"
    head = s3.head_object(Bucket="objects-rw", Key="dir/file.bin")
    assert head["ContentLength"] == len(body)
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="objects-rw", Key="nope")
    assert _code(err) == "NoSuchKey"


def test_conditional_requests(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-cond")
    etag = s3.put_object(Bucket="objects-cond", Key="k", Body=b"v1")["ETag"]
    assert s3.get_object(Bucket="objects-cond", Key="k", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="objects-cond", Key="k", IfMatch='"other"')
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="objects-cond", Key="k", IfNoneMatch=etag)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="objects-cond", Key="k", IfModifiedSince=later)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="objects-cond", Key="k", Body=b"v2", IfNoneMatch="*")
    assert _code(err) == "PreconditionFailed"
    assert s3.get_object(Bucket="objects-cond", Key="k")["Body"].read() == b"v1"


def test_copy_tagging_and_batch_delete(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-copy")
    s3.put_object(Bucket="objects-copy", Key="src", Body=b"data", Metadata={"a": "1"},
                  Tagging="t=1")  # fmt: skip
    s3.copy_object(Bucket="objects-copy", Key="dst", CopySource="objects-copy/src")
    got = s3.get_object(Bucket="objects-copy", Key="dst")
    assert got["Body"].read() == b"data" and got["Metadata"] == {"a": "1"}
    assert s3.get_object_tagging(Bucket="objects-copy", Key="dst")["TagSet"] == [
        {"Key": "t", "Value": "1"}
    ]
    s3.copy_object(Bucket="objects-copy", Key="dst2", CopySource={"Bucket": "objects-copy",
                   "Key": "src"}, MetadataDirective="REPLACE", Metadata={"b": "2"})  # fmt: skip
    assert s3.head_object(Bucket="objects-copy", Key="dst2")["Metadata"] == {"b": "2"}
    result = s3.delete_objects(
        Bucket="objects-copy",
        Delete={"Objects": [{"Key": "src"}, {"Key": "dst"}, {"Key": "absent"}]},
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["absent", "dst", "src"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="objects-copy").get("Contents", [])]
    assert keys == ["dst2"]


def test_listing_prefixes_delimiters_and_pages(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-list")
    keys = [f"p/{d}/{i:02d}" for d in ("a", "b") for i in range(5)] + ["p/top", "q/x"]
    for key in keys:
        s3.put_object(Bucket="objects-list", Key=key, Body=b"")
    top = s3.list_objects_v2(Bucket="objects-list", Prefix="p/", Delimiter="/")
    assert [c["Prefix"] for c in top["CommonPrefixes"]] == ["p/a/", "p/b/"]
    assert [c["Key"] for c in top["Contents"]] == ["p/top"]
    seen: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket="objects-list", PaginationConfig={"PageSize": 3}):
        assert page["KeyCount"] <= 3
        seen.extend(o["Key"] for o in page.get("Contents", []))
    assert seen == sorted(keys)
    v1 = s3.list_objects(Bucket="objects-list", Prefix="p/a/", MaxKeys=2)
    assert v1["IsTruncated"] and [o["Key"] for o in v1["Contents"]] == ["p/a/00", "p/a/01"]


def test_versioning_and_list_object_versions(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-ver")
    s3.put_bucket_versioning(Bucket="objects-ver", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="objects-ver")["Status"] == "Enabled"
    v1 = s3.put_object(Bucket="objects-ver", Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket="objects-ver", Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    marker = s3.delete_object(Bucket="objects-ver", Key="k")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket="objects-ver", Key="k")
    assert _code(err) == "NoSuchKey"
    old = s3.get_object(Bucket="objects-ver", Key="k", VersionId=v1)
    assert old["Body"].read() == b"one"
    listing = s3.list_object_versions(Bucket="objects-ver")
    assert [v["VersionId"] for v in listing["Versions"]] == [v2, v1]
    assert listing["DeleteMarkers"][0]["IsLatest"] is True
    s3.delete_object(Bucket="objects-ver", Key="k", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket="objects-ver", Key="k")["Body"].read() == b"two"


def test_bucket_tagging_policy_cors_lifecycle(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-conf")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_tagging(Bucket="objects-conf")
    assert _code(err) == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket="objects-conf", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert s3.get_bucket_tagging(Bucket="objects-conf")["TagSet"] == [{"Key": "a", "Value": "b"}]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": "arn:aws:s3:::objects-conf/*"}],
    }  # fmt: skip
    s3.put_bucket_policy(Bucket="objects-conf", Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket="objects-conf")["Policy"]) == policy
    with pytest.raises(ClientError) as err:
        s3.put_bucket_policy(Bucket="objects-conf", Policy="{not json")
    assert _code(err) == "MalformedPolicy"
    rules = [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.com"]}]
    s3.put_bucket_cors(Bucket="objects-conf", CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket="objects-conf")["CORSRules"] == rules
    s3.put_bucket_lifecycle_configuration(
        Bucket="objects-conf",
        LifecycleConfiguration={"Rules": [{"ID": "old", "Status": "Enabled",
                                           "Filter": {"Prefix": "tmp/"},
                                           "Expiration": {"Days": 1}}]},
    )  # fmt: skip
    rule = s3.get_bucket_lifecycle_configuration(Bucket="objects-conf")["Rules"][0]
    assert rule["Expiration"] == {"Days": 1}


def test_presigned_get_and_put(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-presign")
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": "objects-presign", "Key": "up.txt"}, ExpiresIn=60
    )
    req = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "objects-presign", "Key": "up.txt"}, ExpiresIn=60
    )
    with urllib.request.urlopen(get_url, timeout=10) as resp:
        assert resp.read() == b"presigned body"


def test_virtual_host_style(dockyard: DockyardProcess) -> None:
    s3 = make_client("s3", dockyard.endpoint)
    s3.create_bucket(Bucket="objects-vhost")
    s3.put_object(Bucket="objects-vhost", Key="a/b.txt", Body=b"by host")
    url = f"http://127.0.0.1:{dockyard.port}/a/b.txt"
    req = urllib.request.Request(
        url, headers={"Host": f"objects-vhost.s3.localhost:{dockyard.port}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.read() == b"by host"
    req = urllib.request.Request(
        f"http://127.0.0.1:{dockyard.port}/?list-type=2",
        headers={"Host": f"objects-vhost.s3.us-east-1.localhost:{dockyard.port}"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert b"<Key>a/b.txt</Key>" in resp.read()
    req = urllib.request.Request(
        f"http://127.0.0.1:{dockyard.port}/nope",
        headers={"Host": f"objects-vhost.s3.localhost:{dockyard.port}"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 404 and b"<Code>NoSuchKey</Code>" in err.value.read()


def test_unsupported_operation_is_explicit(s3: Any) -> None:
    s3.create_bucket(Bucket="objects-unsup")
    with pytest.raises(ClientError) as err:
        s3.get_bucket_website(Bucket="objects-unsup")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert _code(err) == "UnsupportedOperation"


def test_cors_preflight_and_actual_requests(dockyard: DockyardProcess, s3: Any) -> None:
    s3.create_bucket(Bucket="objects-cors")
    s3.put_object(Bucket="objects-cors", Key="page.html", Body=b"<p>hi</p>")

    def preflight(origin: str, method: str, headers: str = "") -> tuple[int, Any]:
        extra = {"Access-Control-Request-Headers": headers} if headers else {}
        req = urllib.request.Request(
            f"{dockyard.endpoint}/objects-cors/page.html",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": method, **extra},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.headers
        except urllib.error.HTTPError as err:
            return err.code, err.headers

    assert preflight("https://app.example.com", "GET")[0] == 403  # no CORS rules yet
    rules = [{"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://*.example.com"],
              "AllowedHeaders": ["content-type"], "MaxAgeSeconds": 600}]  # fmt: skip
    s3.put_bucket_cors(Bucket="objects-cors", CORSConfiguration={"CORSRules": rules})
    status, headers = preflight("https://app.example.com", "PUT", "Content-Type")
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert headers["Access-Control-Max-Age"] == "600"
    assert preflight("https://evil.test", "GET")[0] == 403
    assert preflight("https://app.example.com", "DELETE")[0] == 403
    req = urllib.request.Request(
        f"{dockyard.endpoint}/objects-cors/page.html",
        headers={"Origin": "https://app.example.com"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
