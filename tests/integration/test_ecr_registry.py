"""The registry API at /v2/ and the ECR API over it, against a real server: uploads
(monolithic, chunked, mounted), ranges, manifests by tag and digest, indexes, tag listing,
digest verification, immutable tags, deletes, lifecycle policies and blob collection."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.registry import OCI_INDEX, OCI_MANIFEST, RegistryClient, digest
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(tmp_path_factory.mktemp("ecr") / "data", "--no-local-agent")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def ecr(server: DockyardProcess) -> Any:
    return make_client("ecr", server.endpoint)


@pytest.fixture
def registry(server: DockyardProcess) -> Iterator[RegistryClient]:
    client = RegistryClient(server.endpoint)
    yield client
    client.close()


@pytest.fixture
def repo(ecr: Any) -> str:
    name = f"team/app-{uuid.uuid4().hex[:8]}"
    ecr.create_repository(repositoryName=name)
    return name


def blob_files(server: DockyardProcess) -> set[str]:
    root = server.data_dir / "registry" / "blobs" / "sha256"
    return {"sha256:" + p.name for p in root.iterdir()}


def test_base_and_unknown_repository(server: DockyardProcess, registry: RegistryClient) -> None:
    r = registry.http.get("/v2/")
    assert r.status_code == 200
    assert r.headers["docker-distribution-api-version"] == "registry/2.0"
    r = registry.http.get("/v2/no-such-repo/tags/list")
    assert r.status_code == 404
    assert r.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_create_repository_shape_and_uri(ecr: Any, server: DockyardProcess) -> None:
    name = f"shape-{uuid.uuid4().hex[:6]}"
    repo = ecr.create_repository(
        repositoryName=name,
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
        tags=[{"Key": "team", "Value": "a"}],
    )["repository"]
    assert repo["repositoryUri"] == f"localhost:{server.port}/{name}"
    assert repo["repositoryArn"] == f"arn:aws:ecr:us-east-1:000000000000:repository/{name}"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfiguration"] == {"encryptionType": "AES256"}
    with pytest.raises(ClientError) as err:
        ecr.create_repository(repositoryName=name)
    assert err.value.response["Error"]["Code"] == "RepositoryAlreadyExistsException"
    with pytest.raises(ClientError) as err:
        ecr.create_repository(repositoryName="Bad_Name")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    assert tags == [{"Key": "team", "Value": "a"}]


def test_uploads_ranges_and_manifests(
    ecr: Any, registry: RegistryClient, repo: str, server: DockyardProcess
) -> None:
    layer = os.urandom(300_000)
    chunked = registry.push_chunked(repo, layer, 100_000)
    assert chunked == digest(layer)
    head = registry.http.head(f"/v2/{repo}/blobs/{chunked}")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(layer))
    part = registry.http.get(f"/v2/{repo}/blobs/{chunked}", headers={"range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == layer[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(layer)}"
    whole = registry.http.get(f"/v2/{repo}/blobs/{chunked}")
    assert whole.content == layer and whole.headers["docker-content-digest"] == chunked
    bad = registry.http.get(f"/v2/{repo}/blobs/{chunked}", headers={"range": "bytes=999999-"})
    assert bad.status_code == 416

    pushed = registry.push_image(repo, "v1", [layer, b"second layer"])
    by_tag = registry.http.get(f"/v2/{repo}/manifests/v1")
    assert by_tag.content == pushed.manifest  # byte for byte
    assert by_tag.headers["content-type"] == OCI_MANIFEST
    assert by_tag.headers["docker-content-digest"] == pushed.digest
    by_digest = registry.http.head(f"/v2/{repo}/manifests/{pushed.digest}")
    assert by_digest.status_code == 200
    assert by_digest.headers["content-length"] == str(len(pushed.manifest))

    detail = ecr.describe_images(repositoryName=repo)["imageDetails"]
    assert len(detail) == 1
    assert detail[0]["imageDigest"] == pushed.digest and detail[0]["imageTags"] == ["v1"]
    assert detail[0]["imageSizeInBytes"] == len(layer) + len(b"second layer")
    assert detail[0]["imageManifestMediaType"] == OCI_MANIFEST
    got = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    assert got["images"][0]["imageManifest"] == pushed.manifest.decode()
    missing = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "nope"}])
    assert missing["failures"][0]["failureCode"] == "ImageNotFound"


def test_digest_mismatch_leaves_nothing(registry: RegistryClient, repo: str) -> None:
    data = b"what was sent"
    wrong = digest(b"something else")
    r = registry.http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": wrong}, content=data)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert registry.http.head(f"/v2/{repo}/blobs/{wrong}").status_code == 404
    assert registry.http.head(f"/v2/{repo}/blobs/{digest(data)}").status_code == 404


def test_manifest_naming_missing_blob_is_refused(registry: RegistryClient, repo: str) -> None:
    from tests.support.registry import manifest_of

    manifest = manifest_of(b"{}", [b"never uploaded"])
    r = registry.push_manifest(repo, "v1", manifest, OCI_MANIFEST)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "MANIFEST_BLOB_UNKNOWN"
    assert registry.http.get(f"/v2/{repo}/manifests/v1").status_code == 404


def test_cross_repository_mount(ecr: Any, registry: RegistryClient, repo: str) -> None:
    data = os.urandom(5000)
    d = registry.push_blob(repo, data)
    other = f"{repo}-copy"
    ecr.create_repository(repositoryName=other)
    assert registry.http.head(f"/v2/{other}/blobs/{d}").status_code == 404
    r = registry.http.post(f"/v2/{other}/blobs/uploads/", params={"mount": d, "from": repo})
    assert r.status_code == 201 and r.headers["docker-content-digest"] == d
    assert registry.http.get(f"/v2/{other}/blobs/{d}").content == data


def test_index_and_tag_listing(ecr: Any, registry: RegistryClient, repo: str) -> None:
    amd = registry.push_image(repo, None, [b"amd64 layer"])
    arm = registry.push_image(repo, None, [b"arm64 layer"])
    index = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": amd.digest, "size": len(amd.manifest),
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": arm.digest, "size": len(arm.manifest),
             "platform": {"architecture": "arm64", "os": "linux"}},
        ],
    }).encode()  # fmt: skip
    for tag in ("latest", "a", "b"):
        assert registry.push_manifest(repo, tag, index, OCI_INDEX).status_code == 201
    got = registry.http.get(f"/v2/{repo}/manifests/latest")
    assert got.headers["content-type"] == OCI_INDEX and got.content == index
    page = registry.http.get(f"/v2/{repo}/tags/list", params={"n": 2})
    assert page.json() == {"name": repo, "tags": ["a", "b"]}
    assert 'rel="next"' in page.headers["link"]
    rest = registry.http.get(f"/v2/{repo}/tags/list", params={"n": 2, "last": "b"})
    assert rest.json()["tags"] == ["latest"]
    untagged = ecr.list_images(repositoryName=repo, filter={"tagStatus": "UNTAGGED"})
    assert {i["imageDigest"] for i in untagged["imageIds"]} == {amd.digest, arm.digest}


def test_immutable_tags(ecr: Any, registry: RegistryClient, repo: str) -> None:
    ecr.put_image_tag_mutability(repositoryName=repo, imageTagMutability="IMMUTABLE")
    first = registry.push_image(repo, "v1", [b"first"])
    second = registry.push_image(repo, None, [b"second"])
    r = registry.push_manifest(repo, "v1", second.manifest, OCI_MANIFEST)
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "TAG_INVALID"
    with pytest.raises(ClientError) as err:
        ecr.put_image(repositoryName=repo, imageManifest=second.manifest.decode(), imageTag="v1")
    assert err.value.response["Error"]["Code"] == "ImageTagAlreadyExistsException"
    # The same manifest under the same tag again is no change.
    assert registry.push_manifest(repo, "v1", first.manifest, OCI_MANIFEST).status_code == 201
    with pytest.raises(ClientError) as err:
        ecr.put_image(repositoryName=repo, imageManifest=first.manifest.decode(), imageTag="v1")
    assert err.value.response["Error"]["Code"] == "ImageAlreadyExistsException"


def test_batch_delete_by_tag_and_digest(ecr: Any, registry: RegistryClient, repo: str) -> None:
    image = registry.push_image(repo, "one", [b"shared layer"])
    assert registry.push_manifest(repo, "two", image.manifest, OCI_MANIFEST).status_code == 201
    out = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "one"}])
    assert out["imageIds"] == [{"imageDigest": image.digest, "imageTag": "one"}]
    assert ecr.describe_images(repositoryName=repo)["imageDetails"][0]["imageTags"] == ["two"]
    out = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": image.digest}])
    assert out["imageIds"] == [{"imageDigest": image.digest, "imageTag": "two"}]
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []
    with pytest.raises(ClientError) as err:
        ecr.delete_repository(repositoryName=repo + "-nope")
    assert err.value.response["Error"]["Code"] == "RepositoryNotFoundException"


def test_delete_repository_needs_force(ecr: Any, registry: RegistryClient, repo: str) -> None:
    registry.push_image(repo, "v1", [b"x" * 10])
    with pytest.raises(ClientError) as err:
        ecr.delete_repository(repositoryName=repo)
    assert err.value.response["Error"]["Code"] == "RepositoryNotEmptyException"
    ecr.delete_repository(repositoryName=repo, force=True)
    assert registry.http.get(f"/v2/{repo}/manifests/v1").status_code == 404


def test_lifecycle_keeps_three_and_collects_blobs(
    ecr: Any, registry: RegistryClient, repo: str, server: DockyardProcess
) -> None:
    pushed = [registry.push_image(repo, f"v{i}", [os.urandom(2000)]) for i in range(5)]
    policy = {"rules": [{
        "rulePriority": 1, "description": "keep 3",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 3},
        "action": {"type": "expire"},
    }]}  # fmt: skip
    ecr.start_lifecycle_policy_preview(repositoryName=repo, lifecyclePolicyText=json.dumps(policy))
    preview = ecr.get_lifecycle_policy_preview(repositoryName=repo)
    assert preview["status"] == "COMPLETE"
    assert {p["imageDigest"] for p in preview["previewResults"]} == {
        pushed[0].digest,
        pushed[1].digest,
    }
    assert {p["appliedRulePriority"] for p in preview["previewResults"]} == {1}
    old_layers = {b for p in pushed[:2] for b in p.blobs[1:]}
    assert old_layers <= blob_files(server)
    ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=json.dumps(policy))

    def tags() -> set[str]:
        return {
            t for i in ecr.describe_images(repositoryName=repo)["imageDetails"]
            for t in i.get("imageTags", [])
        }  # fmt: skip

    assert wait_for(lambda: tags() == {"v2", "v3", "v4"} and tags(), what="expiry")
    wait_for(lambda: not (old_layers & blob_files(server)), what="old layers collected")
    kept = {b for p in pushed[2:] for b in p.blobs[1:]}
    assert kept <= blob_files(server)
    assert ecr.get_lifecycle_policy(repositoryName=repo)["lastEvaluatedAt"]


def test_lifecycle_policy_validation(ecr: Any, repo: str) -> None:
    bad = {"rules": [
        {"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                          "countNumber": 1}, "action": {"type": "expire"}},
        {"rulePriority": 2, "selection": {"tagStatus": "untagged",
                                          "countType": "imageCountMoreThan", "countNumber": 1},
         "action": {"type": "expire"}},
    ]}  # fmt: skip
    with pytest.raises(ClientError) as err:
        ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=json.dumps(bad))
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        ecr.get_lifecycle_policy(repositoryName=repo)
    assert err.value.response["Error"]["Code"] == "LifecyclePolicyNotFoundException"


def test_pull_through_cache_refused_and_others_501(ecr: Any) -> None:
    with pytest.raises(ClientError) as err:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="hub", upstreamRegistryUrl="registry-1.docker.io"
        )
    assert err.value.response["Error"]["Code"] == "UnsupportedUpstreamRegistryException"
    with pytest.raises(ClientError) as err:
        ecr.start_image_scan(repositoryName="xx", imageId={"imageTag": "v"})
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_push_and_delete_events_reach_eventbridge(
    server: DockyardProcess, ecr: Any, registry: RegistryClient, repo: str
) -> None:
    events = make_client("events", server.endpoint)
    logs = make_client("logs", server.endpoint)
    group = f"/aws/events/ecr-{uuid.uuid4().hex[:6]}"
    logs.create_log_group(logGroupName=group)
    rule = f"ecr-{uuid.uuid4().hex[:6]}"
    events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.ecr"], "detail-type": ["ECR Image Action"],
        "detail": {"repository-name": [repo]},
    }))  # fmt: skip
    events.put_targets(Rule=rule, Targets=[
        {"Id": "g", "Arn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"}
    ])  # fmt: skip
    image = registry.push_image(repo, "v1", [b"event layer"])
    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])

    def actions() -> list[dict[str, Any]]:
        found = logs.filter_log_events(logGroupName=group)["events"]
        return [json.loads(e["message"])["detail"] for e in found]

    details = wait_for(lambda: len(actions()) >= 2 and actions(), what="two events")
    assert [d["action-type"] for d in details] == ["PUSH", "DELETE"]
    assert details[0]["image-digest"] == image.digest and details[0]["image-tag"] == "v1"
    assert details[0]["result"] == "SUCCESS"


def test_auth_token_round_trip_and_restart(fresh_server: Any, tmp_path: Path) -> None:
    auth = tmp_path / "auth"
    auth.write_text("AKIDECR secret-ecr\n")
    data = tmp_path / "authdata"
    server = fresh_server("--no-local-agent", "--auth-file", str(auth), data_dir=data)
    ecr = boto3.client("ecr", endpoint_url=server.endpoint, region_name="us-east-1",
                       aws_access_key_id="AKIDECR", aws_secret_access_key="secret-ecr")  # fmt: skip
    ecr.create_repository(repositoryName="private")
    anonymous = RegistryClient(server.endpoint)
    r = anonymous.http.get("/v2/")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert anonymous.http.get("/v2/private/tags/list").status_code == 401
    forged = RegistryClient(server.endpoint, auth=("AWS", "forged.token"))
    assert forged.http.get("/v2/").status_code == 401
    data_out = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data_out["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    assert data_out["proxyEndpoint"] == f"http://localhost:{server.port}"
    client = RegistryClient(server.endpoint, auth=(user, password))
    image = client.push_image("private", "v1", [b"secret layer"])
    client.close()
    server.stop()
    again = fresh_server("--no-local-agent", "--auth-file", str(auth), data_dir=data,
                         port=server.port)  # fmt: skip
    client = RegistryClient(again.endpoint, auth=(user, password))
    assert client.http.get("/v2/private/manifests/v1").content == image.manifest
    client.close()
    anonymous.close()
    forged.close()


def test_kill_during_push_serves_nothing_partial(fresh_server: Any, tmp_path: Path) -> None:
    import socket

    data_dir = tmp_path / "killdata"
    server = fresh_server("--no-local-agent", data_dir=data_dir)
    make_client("ecr", server.endpoint).create_repository(repositoryName="crash")
    client = RegistryClient(server.endpoint)
    layer = os.urandom(2_000_000)
    d = digest(layer)
    # A chunked upload with its first part in, and a monolithic one cut mid-body.
    started = client.http.post("/v2/crash/blobs/uploads/")
    location = started.headers["location"]
    part = client.http.patch(location, content=layer[:1_000_000],
                             headers={"content-range": "0-999999"})  # fmt: skip
    assert part.status_code == 202
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(
        f"POST /v2/crash/blobs/uploads/?digest={d} HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Length: {len(layer)}\r\n\r\n".encode()
        + layer[:1_500_000]
    )
    wait_for(lambda: len(list((data_dir / "registry" / "uploads").iterdir())) >= 2,
             what="both uploads on disk")  # fmt: skip
    client.close()
    server.kill()
    sock.close()
    server.proc.wait(timeout=10)  # type: ignore[union-attr]
    again = fresh_server("--no-local-agent", data_dir=data_dir, port=server.port)
    client = RegistryClient(again.endpoint)
    assert client.http.head(f"/v2/crash/blobs/{d}").status_code == 404
    assert client.http.patch(location, content=b"x").status_code == 404
    assert list((data_dir / "registry" / "uploads").iterdir()) == []
    assert d not in blob_files(again)
    # The retry goes through.
    pushed = client.push_image("crash", "v1", [layer])
    assert client.http.get(f"/v2/crash/blobs/{d}").content == layer
    assert client.http.get("/v2/crash/manifests/v1").content == pushed.manifest
    client.close()


def test_repository_policy_opens_a_repository_to_another_account(
    fresh_server: Any, tmp_path: Path
) -> None:
    auth = tmp_path / "auth"
    auth.write_text("AKIDOWNER secret-a 111111111111\nAKIDOTHER secret-b 222222222222\n")
    server = fresh_server("--no-local-agent", "--auth-file", str(auth),
                          data_dir=tmp_path / "policydata")  # fmt: skip

    def client(key: str, secret: str) -> Any:
        return boto3.client("ecr", endpoint_url=server.endpoint, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret)  # fmt: skip

    def registry(ecr: Any) -> RegistryClient:
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        user, _, password = base64.b64decode(token).decode().partition(":")
        c = RegistryClient(server.endpoint, auth=(user, password))
        c.http.headers["host"] = f"111111111111.dkr.ecr.us-east-1.localhost:{server.port}"
        return c

    owner, other = client("AKIDOWNER", "secret-a"), client("AKIDOTHER", "secret-b")
    owner.create_repository(repositoryName="shared")
    mine = registry(owner)
    image = mine.push_image("shared", "v1", [b"shared layer"])
    theirs = registry(other)
    r = theirs.http.get("/v2/shared/manifests/v1")
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "DENIED"
    with pytest.raises(ClientError) as err:
        other.batch_get_image(registryId="111111111111", repositoryName="shared",
                              imageIds=[{"imageTag": "v1"}])  # fmt: skip
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    owner.set_repository_policy(repositoryName="shared", policyText=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "pull", "Effect": "Allow",
                       "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                       "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                  "ecr:BatchCheckLayerAvailability"]}],
    }))  # fmt: skip
    assert theirs.http.get("/v2/shared/manifests/v1").content == image.manifest
    assert theirs.http.get(f"/v2/shared/blobs/{image.blobs[1]}").content == b"shared layer"
    got = other.batch_get_image(registryId="111111111111", repositoryName="shared",
                                imageIds=[{"imageTag": "v1"}])  # fmt: skip
    assert got["images"][0]["imageManifest"] == image.manifest.decode()
    # Pulling is all it grants.
    r = theirs.http.post("/v2/shared/blobs/uploads/")
    assert r.status_code == 403
    with pytest.raises(ClientError) as err:
        other.batch_delete_image(registryId="111111111111", repositoryName="shared",
                                 imageIds=[{"imageTag": "v1"}])  # fmt: skip
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    # The owner's own repositories stay its own: the other account sees none of its own.
    assert other.describe_repositories()["repositories"] == []
    mine.close()
    theirs.close()


def test_full_disk_answers_503_and_serves_nothing_partial(
    fresh_server: Any, tmp_path: Path
) -> None:
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        server = fresh_server("--no-local-agent", data_dir=disk / "data")
        make_client("ecr", server.endpoint).create_repository(repositoryName="full")
        client = RegistryClient(server.endpoint)
        stored: dict[str, bytes] = {}
        refused = []
        for _ in range(40):
            data = os.urandom(256 * 1024)
            d = digest(data)
            r = client.http.post("/v2/full/blobs/uploads/", params={"digest": d}, content=data)
            if r.status_code == 201:
                stored[d] = data
            else:
                assert r.status_code == 503, r.text
                refused.append(d)
                if len(refused) >= 3:
                    break
        assert stored and refused, "the disk never filled"
        for d in refused:
            assert client.http.head(f"/v2/full/blobs/{d}").status_code == 404
        for d, data in stored.items():
            assert client.http.get(f"/v2/full/blobs/{d}").content == data
        assert list((disk / "data" / "registry" / "uploads").iterdir()) == []
        client.close()
        server.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_layer_upload_api_and_put_image(ecr: Any, registry: RegistryClient, repo: str) -> None:
    from tests.support.registry import manifest_of

    layer = os.urandom(3000)
    config = b'{"architecture": "amd64", "os": "linux"}'
    for blob in (config, layer):
        upload = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
        half = len(blob) // 2
        ecr.upload_layer_part(repositoryName=repo, uploadId=upload, partFirstByte=0,
                              partLastByte=half - 1, layerPartBlob=blob[:half])  # fmt: skip
        with pytest.raises(ClientError) as err:
            ecr.upload_layer_part(repositoryName=repo, uploadId=upload, partFirstByte=0,
                                  partLastByte=0, layerPartBlob=b"x")  # fmt: skip
        assert err.value.response["Error"]["Code"] == "InvalidLayerPartException"
        out = ecr.upload_layer_part(
            repositoryName=repo, uploadId=upload, partFirstByte=half,
            partLastByte=len(blob) - 1, layerPartBlob=blob[half:],
        )  # fmt: skip
        assert out["lastByteReceived"] == len(blob) - 1
        done = ecr.complete_layer_upload(repositoryName=repo, uploadId=upload,
                                         layerDigests=[digest(blob)])  # fmt: skip
        assert done["layerDigest"] == digest(blob)
    bad = ecr.initiate_layer_upload(repositoryName=repo)["uploadId"]
    ecr.upload_layer_part(repositoryName=repo, uploadId=bad, partFirstByte=0, partLastByte=2,
                          layerPartBlob=b"abc")  # fmt: skip
    with pytest.raises(ClientError) as err:
        ecr.complete_layer_upload(repositoryName=repo, uploadId=bad,
                                  layerDigests=[digest(b"xyz")])  # fmt: skip
    assert err.value.response["Error"]["Code"] == "InvalidLayerException"
    avail = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[digest(layer)])
    assert avail["layers"][0]["layerAvailability"] == "AVAILABLE"
    manifest = manifest_of(config, [layer]).decode()
    put = ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="api")
    assert put["image"]["imageId"]["imageTag"] == "api"
    assert registry.http.get(f"/v2/{repo}/manifests/api").content.decode() == manifest
    url = ecr.get_download_url_for_layer(repositoryName=repo, layerDigest=digest(layer))
    assert httpx.get(url["downloadUrl"].replace("localhost", "127.0.0.1")).content == layer
