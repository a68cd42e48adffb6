"""S3 with authentication on, over HTTPS: bodies as the SDKs send them (aws-chunked with
trailing checksums, signed chunks), and bodies whose signature or digest does not hold are
refused with nothing stored."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.server import DockyardProcess
from tests.support.tls import make_pki

REGION = "us-east-1"
KEY, SECRET = "AKIDS3TEST", "s3-secret"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    tmp = tmp_path_factory.mktemp("s3auth")
    pki = make_pki(tmp / "pki", ["127.0.0.1"])
    auth = tmp / "auth"
    auth.write_text(f"{KEY} {SECRET}\n")
    proc = DockyardProcess(
        tmp / "data", "--no-local-agent", "--auth-file", str(auth),
        "--tls-cert", str(pki.cert), "--tls-key", str(pki.key), ca=pki.ca,
    )  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


def _client(server: DockyardProcess, secret: str = SECRET, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=KEY,
        aws_secret_access_key=secret,
        verify=str(server.ca),
        config=Config(retries={"max_attempts": 1}, **config),
    )


def _tmp_files(server: DockyardProcess) -> list[Path]:
    return list((server.data_dir / "s3" / "tmp").glob("*"))


def test_sdk_bodies_with_trailing_checksums(server: DockyardProcess, tmp_path: Path) -> None:
    s3 = _client(server)
    s3.create_bucket(Bucket="auth-sdk")
    body = b"streamed over https " * 1000
    put = s3.put_object(Bucket="auth-sdk", Key="k", Body=body)
    assert put["ChecksumCRC32"]
    got = s3.get_object(Bucket="auth-sdk", Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 4096 * 12)  # 12 MiB: three parts
    config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024**2)
    s3.upload_file(str(big), "auth-sdk", "big.bin", Config=config)
    out = tmp_path / "out.bin"
    s3.download_file("auth-sdk", "big.bin", str(out))
    assert out.read_bytes() == big.read_bytes()


def _signing_key(date: str) -> bytes:
    key = hmac.new(f"AWS4{SECRET}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _signed_chunked_put(
    server: DockyardProcess, path: str, chunks: list[bytes], tamper: bool = False
) -> tuple[int, bytes]:
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD: a seed signature over the headers,
    then one signature per chunk, chained (as the Java and Go SDKs send it)."""
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    date = amz_date[:8]
    scope = f"{date}/{REGION}/s3/aws4_request"
    host = f"127.0.0.1:{server.port}"
    decoded = sum(len(c) for c in chunks)
    headers = {
        "host": host,
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-date": amz_date,
        "x-amz-decoded-content-length": str(decoded),
        "content-encoding": "aws-chunked",
    }
    signed = sorted(headers)
    canonical = "\n".join(
        ["PUT", path, "", "".join(f"{h}:{headers[h]}\n" for h in signed), ";".join(signed),
         headers["x-amz-content-sha256"]]
    )  # fmt: skip
    key = _signing_key(date)
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={KEY}/{scope}, SignedHeaders={';'.join(signed)}, "
        f"Signature={previous}"
    )
    empty = hashlib.sha256(b"").hexdigest()
    wire = bytearray()
    for chunk in [*chunks, b""]:
        string = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, empty,
             hashlib.sha256(chunk).hexdigest()]
        )  # fmt: skip
        previous = hmac.new(key, string.encode(), hashlib.sha256).hexdigest()
        sent = chunk.replace(b"a", b"b") if tamper and chunk else chunk
        wire += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    context = ssl.create_default_context(cafile=str(server.ca))
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=30)
    conn.request(
        "PUT", path, body=bytes(wire),
        headers={**headers, "authorization": authorization, "content-length": str(len(wire))},
    )  # fmt: skip
    resp = conn.getresponse()
    result = resp.status, resp.read()
    conn.close()
    return result


def test_signed_chunks_are_verified_before_anything_is_stored(server: DockyardProcess) -> None:
    s3 = _client(server)
    s3.create_bucket(Bucket="auth-chunks")
    chunks = [b"a" * 65536, b"abc" * 1000, b"last"]
    status, _ = _signed_chunked_put(server, "/auth-chunks/good", chunks)
    assert status == 200
    assert s3.get_object(Bucket="auth-chunks", Key="good")["Body"].read() == b"".join(chunks)
    status, body = _signed_chunked_put(server, "/auth-chunks/bad", chunks, tamper=True)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="auth-chunks", Key="bad")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert _tmp_files(server) == []


def test_a_body_that_is_not_the_signed_one_is_refused(server: DockyardProcess) -> None:
    # A signed payload (x-amz-content-sha256: its SHA-256), as over plain http.
    s3 = _client(server, s3={"payload_signing_enabled": True},
                 request_checksum_calculation="when_required")  # fmt: skip
    s3.create_bucket(Bucket="auth-digest")

    def swap_body(request: Any, **_: Any) -> None:
        request.body = b"not what was signed"

    s3.meta.events.register_last("before-send.s3.PutObject", swap_body)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="auth-digest", Key="k", Body=b"what was signed!!!!")
    assert err.value.response["Error"]["Code"] == "XAmzContentSHA256Mismatch"
    s3.meta.events.unregister("before-send.s3.PutObject", swap_body)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="auth-digest", Key="k", Body=b"data", ChecksumCRC32="AAAAAA==")
    assert err.value.response["Error"]["Code"] == "BadDigest"
    with pytest.raises(ClientError) as err:
        s3.put_object(
            Bucket="auth-digest", Key="k", Body=b"data", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg=="
        )
    assert err.value.response["Error"]["Code"] == "BadDigest"
    assert s3.list_objects_v2(Bucket="auth-digest")["KeyCount"] == 0
    assert _tmp_files(server) == []


def test_wrong_secret_and_presigned_urls(server: DockyardProcess) -> None:
    s3 = _client(server)
    s3.create_bucket(Bucket="auth-presign")
    s3.put_object(Bucket="auth-presign", Key="k", Body=b"secret data")
    with pytest.raises(ClientError) as err:
        _client(server, secret="wrong").put_object(Bucket="auth-presign", Key="k", Body=b"x")
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    context = ssl.create_default_context(cafile=str(server.ca))
    v4 = _client(server, signature_version="s3v4")
    for client in (s3, v4):  # boto3's default (the legacy query form) and SigV4
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": "auth-presign", "Key": "k"}
        )
        with urllib.request.urlopen(url, context=context, timeout=10) as resp:
            assert resp.read() == b"secret data"
        put_url = client.generate_presigned_url(
            "put_object", Params={"Bucket": "auth-presign", "Key": "up"}
        )
        # The legacy form signs the Content-Type: send the one it was signed with (none).
        req = urllib.request.Request(
            put_url, data=b"uploaded by url", method="PUT", headers={"Content-Type": ""}
        )
        with urllib.request.urlopen(req, context=context, timeout=10) as resp:
            assert resp.status == 200
        assert s3.get_object(Bucket="auth-presign", Key="up")["Body"].read() == b"uploaded by url"
    with pytest.raises(urllib.error.HTTPError) as http_err:
        urllib.request.urlopen(url.replace("auth-presign/k", "auth-presign/other"),
                               context=context, timeout=10)  # fmt: skip
    assert http_err.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as http_err:
        urllib.request.urlopen(f"{server.endpoint}/auth-presign/k", context=context, timeout=10)
    assert http_err.value.code == 403
