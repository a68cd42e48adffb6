"""S3 multipart uploads: a 1 GiB upload in bounded memory, and a server killed mid-upload."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

MiB = 1024 * 1024


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _write_pattern(path: Path, size: int) -> str:
    """A file of `size` bytes that is not all zeros (each MiB differs); its MD5."""
    digest = hashlib.md5()
    block = os.urandom(MiB)
    with open(path, "wb") as out:
        for i in range(size // MiB):
            chunk = i.to_bytes(8, "big") + block[8:]
            out.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def test_one_gib_multipart_upload_in_bounded_memory(
    fresh_server: Callable[..., DockyardProcess], tmp_path: Path
) -> None:
    server = fresh_server("--no-local-agent")
    assert server.proc is not None
    pid = server.proc.pid
    s3 = make_client("s3", server.endpoint)
    s3.create_bucket(Bucket="big")
    source = tmp_path / "big.bin"
    md5 = _write_pattern(source, 1024 * MiB)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=16 * MiB)
        s3.upload_file(str(source), "big", "big.bin", Config=config)
    finally:
        done.set()
        sampler.join()
    head = s3.head_object(Bucket="big", Key="big.bin")
    assert head["ContentLength"] == 1024 * MiB
    assert head["ETag"].endswith('-64"')
    assert peak[0] < 200 * 1024, f"server RSS peaked at {peak[0] // 1024} MiB"
    # Read back whole, streamed: byte-identical.
    digest = hashlib.md5()
    body = s3.get_object(Bucket="big", Key="big.bin")["Body"]
    for chunk in iter(lambda: body.read(4 * MiB), b""):
        digest.update(chunk)
    assert digest.hexdigest() == md5
    # The parts' files went with the upload: only the object's file is left.
    files = [p for p in (server.data_dir / "s3").rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].stat().st_size == 1024 * MiB
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"


def _start_upload(port: int, path: str, declared: int, sent: int) -> http.client.HTTPConnection:
    """A PUT that declares `declared` bytes and sends only `sent` of them (for now)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("PUT", path)
    conn.putheader("Content-Length", str(declared))
    conn.endheaders()
    conn.send(b"x" * sent)
    return conn


def _partial_files(server: DockyardProcess) -> list[Path]:
    return [p for p in (server.data_dir / "s3" / "tmp").glob("*") if p.is_file()]


def test_kill_during_upload_leaves_no_partial_object_and_the_upload_resumes(
    fresh_server: Callable[..., DockyardProcess], tmp_path: Path
) -> None:
    server = fresh_server("--no-local-agent")
    s3 = make_client("s3", server.endpoint)
    s3.create_bucket(Bucket="crash")
    s3.put_object(Bucket="crash", Key="kept", Body=b"committed before the crash")
    upload_id = s3.create_multipart_upload(Bucket="crash", Key="resumed.bin")["UploadId"]
    part1 = os.urandom(5 * MiB)
    etag1 = s3.upload_part(
        Bucket="crash", Key="resumed.bin", UploadId=upload_id, PartNumber=1, Body=part1
    )["ETag"]
    # A plain PUT and a part, each half sent when the server dies.
    put = _start_upload(server.port, "/crash/half.bin", 8 * MiB, 3 * MiB)
    part = _start_upload(
        server.port, f"/crash/resumed.bin?partNumber=2&uploadId={upload_id}", 8 * MiB, 3 * MiB
    )
    wait_for(lambda: len(_partial_files(server)) >= 2, what="both bodies being written")
    server.kill()
    put.close()
    part.close()

    restarted = fresh_server("--no-local-agent", data_dir=server.data_dir, port=server.port)
    s3 = make_client("s3", restarted.endpoint)
    assert _partial_files(restarted) == []
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="crash", Key="half.bin")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="crash").get("Contents", [])]
    assert keys == ["kept"]
    assert s3.get_object(Bucket="crash", Key="kept")["Body"].read() == b"committed before the crash"
    uploads = s3.list_multipart_uploads(Bucket="crash")["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("resumed.bin", upload_id)]
    parts = s3.list_parts(Bucket="crash", Key="resumed.bin", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, etag1, 5 * MiB)]
    # Resume: the part that was cut off, again, then complete.
    part2 = os.urandom(MiB)
    etag2 = s3.upload_part(
        Bucket="crash", Key="resumed.bin", UploadId=upload_id, PartNumber=2, Body=part2
    )["ETag"]
    s3.complete_multipart_upload(
        Bucket="crash",
        Key="resumed.bin",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag1},
                                   {"PartNumber": 2, "ETag": etag2}]},
    )  # fmt: skip
    assert s3.get_object(Bucket="crash", Key="resumed.bin")["Body"].read() == part1 + part2
    assert s3.list_multipart_uploads(Bucket="crash").get("Uploads", []) == []


def test_multipart_errors_and_abort(dockyard: DockyardProcess) -> None:
    s3: Any = make_client("s3", dockyard.endpoint)
    s3.create_bucket(Bucket="mp-errors")
    upload_id = s3.create_multipart_upload(Bucket="mp-errors", Key="k")["UploadId"]
    small = s3.upload_part(
        Bucket="mp-errors", Key="k", UploadId=upload_id, PartNumber=1, Body=b"tiny"
    )["ETag"]
    last = s3.upload_part(
        Bucket="mp-errors", Key="k", UploadId=upload_id, PartNumber=2, Body=b"end"
    )["ETag"]

    def complete(parts: list[dict[str, Any]]) -> str:
        with pytest.raises(ClientError) as err:
            s3.complete_multipart_upload(
                Bucket="mp-errors", Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        return str(err.value.response["Error"]["Code"])

    assert complete([{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]) == (
        "EntityTooSmall"
    )
    assert complete([{"PartNumber": 2, "ETag": last}, {"PartNumber": 1, "ETag": small}]) == (
        "InvalidPartOrder"
    )
    assert complete([{"PartNumber": 3, "ETag": last}]) == "InvalidPart"
    s3.abort_multipart_upload(Bucket="mp-errors", Key="k", UploadId=upload_id)
    with pytest.raises(ClientError) as err:
        s3.list_parts(Bucket="mp-errors", Key="k", UploadId=upload_id)
    assert err.value.response["Error"]["Code"] == "NoSuchUpload"
    # A single small part is a valid upload (the last part may be small).
    upload_id = s3.create_multipart_upload(Bucket="mp-errors", Key="one")["UploadId"]
    etag = s3.upload_part(
        Bucket="mp-errors", Key="one", UploadId=upload_id, PartNumber=1, Body=b"only"
    )["ETag"]
    done = s3.complete_multipart_upload(
        Bucket="mp-errors", Key="one", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
    )  # fmt: skip
    expected = hashlib.md5(bytes.fromhex(etag.strip('"'))).hexdigest()
    assert done["ETag"] == f'"{expected}-1"'
    assert s3.get_object(Bucket="mp-errors", Key="one")["Body"].read() == b"only"
