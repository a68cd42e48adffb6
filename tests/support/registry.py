"""A small client of the registry API (OCI distribution) for tests: what docker and skopeo
send, request by request, so each step can be checked."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import httpx

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Pushed:
    manifest: bytes
    digest: str
    blobs: list[str]


class RegistryClient:
    def __init__(self, base: str, auth: tuple[str, str] | None = None) -> None:
        self.http = httpx.Client(base_url=base, auth=auth, timeout=30)

    def close(self) -> None:
        self.http.close()

    def push_blob(self, repo: str, data: bytes) -> str:
        d = digest(data)
        r = self.http.post(f"/v2/{repo}/blobs/uploads/", params={"digest": d}, content=data)
        assert r.status_code == 201, r.text
        return d

    def push_chunked(self, repo: str, data: bytes, chunk: int) -> str:
        r = self.http.post(f"/v2/{repo}/blobs/uploads/")
        assert r.status_code == 202, r.text
        location = r.headers["location"]
        offset = 0
        while offset < len(data):
            part = data[offset : offset + chunk]
            r = self.http.patch(location, content=part, headers={
                "content-range": f"{offset}-{offset + len(part) - 1}",
                "content-type": "application/octet-stream",
            })  # fmt: skip
            assert r.status_code == 202, r.text
            offset += len(part)
            assert r.headers["range"] == f"0-{offset - 1}"
            location = r.headers["location"]
        d = digest(data)
        r = self.http.put(location, params={"digest": d})
        assert r.status_code == 201, r.text
        assert r.headers["docker-content-digest"] == d
        return d

    def push_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> httpx.Response:
        return self.http.put(
            f"/v2/{repo}/manifests/{ref}", content=body, headers={"content-type": media_type}
        )

    def push_image(self, repo: str, tag: str | None, layers: list[bytes]) -> Pushed:
        """An OCI image of these layers (and a config naming them), pushed under `tag`."""
        config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [digest(x) for x in layers]},
            "config": {"Cmd": ["/bin/sh"]},
        }).encode()  # fmt: skip
        blobs = [self.push_blob(repo, config)] + [self.push_blob(repo, x) for x in layers]
        manifest = manifest_of(config, layers)
        r = self.push_manifest(repo, tag or digest(manifest), manifest, OCI_MANIFEST)
        assert r.status_code == 201, r.text
        return Pushed(manifest, digest(manifest), blobs)


def manifest_of(config: bytes, layers: list[bytes]) -> bytes:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest(x), "size": len(x)} for x in layers],
    }
    return json.dumps(doc, indent=3).encode()
