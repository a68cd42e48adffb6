"""OCI images built in Python from busybox-static (no Docker needed): layer tarballs with
symlinks, a whiteout and an opaque directory, pushed through the registry API."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

from tests.support.registry import OCI_CONFIG, OCI_MANIFEST, RegistryClient, digest

BUSYBOX = Path("/bin/busybox")
APPLETS = ("sh", "ls", "cat", "echo", "httpd", "ps", "mkdir", "sleep", "id", "hostname", "env")
GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _tar(entries: list[tuple[str, bytes | str | None, int]]) -> bytes:
    """(path, content, mode): bytes -> file, str -> symlink target, None -> directory."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path, content, mode in entries:
            info = tarfile.TarInfo(path)
            info.mode = mode
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(content, str):
                info.type = tarfile.SYMTYPE
                info.linkname = content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return gzip.compress(out.getvalue(), compresslevel=1, mtime=0)


def busybox_layers() -> list[bytes]:
    base: list[tuple[str, bytes | str | None, int]] = [
        ("bin", None, 0o755),
        ("bin/busybox", BUSYBOX.read_bytes(), 0o755),
        *((f"bin/{a}", "busybox", 0o777) for a in APPLETS),
        ("etc", None, 0o755),
        ("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000:web:/www:/bin/sh\n",
         0o644),
        ("etc/group", b"root:x:0:\nweb:x:1000:\n", 0o644),
        ("old", None, 0o755),
        ("old/gone.txt", b"removed by a whiteout\n", 0o644),
        ("cache", None, 0o755),
        ("cache/stale.txt", b"hidden by an opaque dir\n", 0o644),
        ("www", None, 0o777),
    ]  # fmt: skip
    top: list[tuple[str, bytes | str | None, int]] = [
        ("old/.wh.gone.txt", b"", 0o644),
        ("cache", None, 0o755),
        ("cache/.wh..wh..opq", b"", 0o644),
        ("cache/fresh.txt", b"from the top layer\n", 0o644),
        ("www/index.html", b"from-the-image\n", 0o644),
    ]
    return [_tar(base), _tar(top)]


def push_busybox(
    client: RegistryClient,
    repo: str,
    tag: str,
    config: dict[str, object],
    extra_layers: list[bytes] | None = None,
) -> str:
    """Push the busybox image with this container config (and layers of a file each of
    `extra_layers`' bytes); its manifest digest."""
    import hashlib

    layers = busybox_layers()
    for i, data in enumerate(extra_layers or []):
        layers.append(_tar([(f"data{i}.bin", data, 0o644)]))
    diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(x)).hexdigest() for x in layers]
    config_blob = json.dumps({
        "architecture": "amd64", "os": "linux", "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()  # fmt: skip
    client.push_blob(repo, config_blob)
    for layer in layers:
        client.push_blob(repo, layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(config_blob),
                   "size": len(config_blob)},
        "layers": [{"mediaType": GZIP_LAYER, "digest": digest(x), "size": len(x)}
                   for x in layers],
    }).encode()  # fmt: skip
    r = client.push_manifest(repo, tag, manifest, OCI_MANIFEST)
    assert r.status_code == 201, r.text
    return digest(manifest)


def image_parts(config: dict[str, object]) -> tuple[bytes, list[bytes]]:
    """The busybox image's config blob and (gzipped) layers."""
    import hashlib

    layers = busybox_layers()
    diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(x)).hexdigest() for x in layers]
    config_blob = json.dumps({
        "architecture": "amd64", "os": "linux", "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()  # fmt: skip
    return config_blob, layers


def write_oci_layout(directory: Path, tag: str, config: dict[str, object]) -> None:
    """The busybox image as an OCI image layout (what `skopeo copy ... oci:DIR:TAG` writes)."""
    config_blob, layers = image_parts(config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest(config_blob),
                   "size": len(config_blob)},
        "layers": [{"mediaType": GZIP_LAYER, "digest": digest(x), "size": len(x)}
                   for x in layers],
    }).encode()  # fmt: skip
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for data in (config_blob, *layers, manifest):
        (blobs / digest(data)[7:]).write_bytes(data)
    (directory / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (directory / "index.json").write_text(json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest(manifest),
                       "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }))  # fmt: skip


def write_docker_archive(path: Path, repo_tag: str, config: dict[str, object]) -> None:
    """The busybox image as `docker save` writes it (manifest.json, config, layer tars)."""
    config_blob, layers = image_parts(config)
    members = {"config.json": config_blob}
    names = []
    for i, layer in enumerate(layers):
        names.append(f"layer{i}/layer.tar")
        members[names[-1]] = gzip.decompress(layer)
    members["manifest.json"] = json.dumps(
        [{"Config": "config.json", "RepoTags": [repo_tag], "Layers": names}]
    ).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
