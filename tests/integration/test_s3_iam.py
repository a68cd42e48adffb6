"""S3 under IAM: a server with an auth file authorizes each S3 request with S3's own action
names on bucket and object ARNs, and weighs the bucket's policy beside the caller's own (in
one account, either may allow; an explicit deny in either wins). Uploads whose bodies are
streamed are authorized before a byte of the body is stored."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.iam_support import (
    ACCOUNT,
    client,
    error_code,
    new_user,
    policy,
    start_auth_server,
)
from tests.support.server import DockyardProcess

BUCKET = "iam-bucket"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = start_auth_server(tmp_path_factory, "s3iam")
    root = client("s3", proc.endpoint)
    root.create_bucket(Bucket=BUCKET)
    root.put_object(Bucket=BUCKET, Key="public/a.txt", Body=b"public")
    root.put_object(Bucket=BUCKET, Key="private/b.txt", Body=b"private")
    yield proc
    proc.stop()


def user_s3(server: DockyardProcess, name: str, *statements: dict[str, Any]) -> Any:
    iam = client("iam", server.endpoint)
    key, secret = new_user(iam, name, policy(*statements) if statements else None)
    return client("s3", server.endpoint, key, secret)


def code_of(call: Any, **params: Any) -> str:
    try:
        call(**params)
    except ClientError as exc:
        return error_code(exc)
    return "ok"


def test_identity_policies_decide_with_s3_action_names_and_arns(server: DockyardProcess) -> None:
    s3 = user_s3(
        server,
        "reader",
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/public/*",
        },
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
    )
    assert s3.get_object(Bucket=BUCKET, Key="public/a.txt")["Body"].read() == b"public"
    assert s3.head_object(Bucket=BUCKET, Key="public/a.txt")["ContentLength"] == 6
    listed = s3.list_objects_v2(Bucket=BUCKET)["Contents"]  # ListObjectsV2 is s3:ListBucket
    assert {o["Key"] for o in listed} == {"public/a.txt", "private/b.txt"}
    assert code_of(s3.get_object, Bucket=BUCKET, Key="private/b.txt") == "AccessDenied"
    assert code_of(s3.put_object, Bucket=BUCKET, Key="public/new", Body=b"x") == "AccessDenied"
    assert code_of(s3.list_object_versions, Bucket=BUCKET) == "AccessDenied"
    assert code_of(s3.list_buckets) == "AccessDenied"  # s3:ListAllMyBuckets on *
    try:
        s3.delete_object(Bucket=BUCKET, Key="public/a.txt")
    except ClientError as exc:
        message = exc.response["Error"]["Message"]
        assert "is not authorized to perform: s3:DeleteObject" in message
        assert f"arn:aws:s3:::{BUCKET}/public/a.txt" in message
        assert f"arn:aws:iam::{ACCOUNT}:user/reader" in message
    else:
        raise AssertionError("DeleteObject was allowed")


def test_a_streamed_upload_is_authorized_before_its_body_is_stored(
    server: DockyardProcess,
) -> None:
    s3 = user_s3(
        server,
        "uploader",
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/in/*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
    )
    body = b"z" * (9 * 1024 * 1024)  # large enough for the multipart path of upload_fileobj
    s3.put_object(Bucket=BUCKET, Key="in/one", Body=body)
    assert s3.get_object(Bucket=BUCKET, Key="in/one")["ContentLength"] == len(body)
    assert code_of(s3.put_object, Bucket=BUCKET, Key="out/one", Body=body) == "AccessDenied"
    assert code_of(s3.head_object, Bucket=BUCKET, Key="out/one") == "404"  # nothing stored
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="in/multi")["UploadId"]
    etag = s3.upload_part(Bucket=BUCKET, Key="in/multi", UploadId=upload, PartNumber=1, Body=body)[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="in/multi",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )
    assert s3.head_object(Bucket=BUCKET, Key="in/multi")["ContentLength"] == len(body)
    assert code_of(s3.create_multipart_upload, Bucket=BUCKET, Key="out/m") == "AccessDenied"


def test_the_bucket_policy_allows_and_denies_beside_the_callers_policies(
    server: DockyardProcess,
) -> None:
    root = client("s3", server.endpoint)
    iam = client("iam", server.endpoint)
    s3 = user_s3(
        server,
        "dropper",
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*"},
    )
    user = iam.get_user(UserName="dropper")["User"]["Arn"]
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DropBox",
                "Effect": "Allow",
                "Principal": {"AWS": user},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/dropbox/*",
            },
            {
                "Sid": "KeepPrivate",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/private/*",
            },
        ],
    }
    assert code_of(s3.put_object, Bucket=BUCKET, Key="dropbox/x", Body=b"x") == "AccessDenied"
    root.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy))
    try:
        # Allowed by the bucket policy alone (same account), though no policy of its own does.
        s3.put_object(Bucket=BUCKET, Key="dropbox/x", Body=b"x")
        assert code_of(s3.put_object, Bucket=BUCKET, Key="other/x", Body=b"x") == "AccessDenied"
        # The bucket policy's explicit deny beats the user's own allow.
        assert code_of(s3.delete_object, Bucket=BUCKET, Key="private/b.txt") == "AccessDenied"
        s3.delete_object(Bucket=BUCKET, Key="dropbox/x")  # the user's allow, no deny there
        assert root.get_object(Bucket=BUCKET, Key="private/b.txt")["Body"].read() == b"private"
    finally:
        root.delete_bucket_policy(Bucket=BUCKET)
    assert code_of(s3.put_object, Bucket=BUCKET, Key="dropbox/y", Body=b"y") == "AccessDenied"


def test_a_malformed_bucket_policy_is_refused(server: DockyardProcess) -> None:
    root = client("s3", server.endpoint)
    bad = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": 7})
    assert code_of(root.put_bucket_policy, Bucket=BUCKET, Policy=bad) == "MalformedPolicy"


def test_a_presigned_url_carries_its_signers_permissions(server: DockyardProcess) -> None:
    s3 = user_s3(
        server,
        "presigner",
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/public/*",
        },
    )
    for version in ("s3v4", "s3"):
        creds = s3._request_signer._credentials
        signer = boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            config=Config(signature_version=version),
        )
        ok = signer.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "public/a.txt"}, ExpiresIn=300
        )
        with urllib.request.urlopen(ok, timeout=30) as answer:
            assert answer.read() == b"public"
        no = signer.generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": "private/b.txt"}, ExpiresIn=300
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(no, timeout=30)
        assert refused.value.code == 403
        assert b"AccessDenied" in refused.value.read()
