"""OCI images for the process driver, without Docker: fetched from a registry (the OCI
distribution API, as this server's ECR serves it), or read from an OCI layout directory
(`oci:/path[:tag]`) or a `docker save` tarball (`docker-archive:/path.tar[:name:tag]`);
then unpacked into a shared read-only rootfs (`ocirootfs.py`).

Blobs are kept content-addressed under `<images>/blobs/sha256/`, each verified against its
digest while it streams to a temporary file, and layers are let go once unpacked; a rootfs is
named by its image's config digest, so images sharing a config share it. Roots no container
uses and no recent pull named are pruned when a task is cleaned up. Everything here blocks:
the driver runs it in a thread.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tarfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dockyard.core.registryauth import RegistryAuth
from dockyard.drivers import ocirootfs
from dockyard.drivers.base import DriverError

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = MANIFEST_TYPES[:2]
OCI_PREFIX = "oci:"
ARCHIVE_PREFIX = "docker-archive:"
CHUNK = 1024 * 1024
MAX_MANIFEST = 4 * 1024 * 1024
ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le"}


def host_arch() -> str:
    machine = platform.machine()
    return ARCHES.get(machine, machine)


@dataclass(slots=True)
class ImageConfig:
    """What the image's config says about running it."""

    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    working_dir: str = ""
    user: str = ""
    exposed_ports: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ImageConfig:
        c = doc.get("config") or {}
        return cls(
            entrypoint=list(c.get("Entrypoint") or []),
            cmd=list(c.get("Cmd") or []),
            env=list(c.get("Env") or []),
            working_dir=str(c.get("WorkingDir") or ""),
            user=str(c.get("User") or ""),
            exposed_ports=sorted(c.get("ExposedPorts") or {}),
        )


@dataclass(slots=True)
class Image:
    rootfs: Path
    config: ImageConfig


@dataclass(slots=True)
class Reference:
    registry: str
    repository: str
    reference: str  # tag or digest


def parse_reference(image: str) -> Reference:
    """`host[:port]/name[:tag|@digest]`: only images that name their registry."""
    name, at, digest = image.partition("@")
    host, slash, rest = name.partition("/")
    if not slash or not ("." in host or ":" in host or host == "localhost"):
        raise DriverError(
            f"CannotPullContainerError: {image}: the process runtime pulls only from a "
            "registry named in the image (host[:port]/name), or from oci:/path"
        )
    if at:
        return Reference(host, rest, digest)
    repo, colon, tag = rest.rpartition(":")
    if colon and "/" not in tag:
        return Reference(host, repo, tag)
    return Reference(host, rest, "latest")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(CHUNK):
            h.update(data)
    return "sha256:" + h.hexdigest()


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / "blobs" / "sha256"
        self.rootfs_dir = root / "rootfs"
        self.tmp = root / "tmp"
        self._lock = threading.Lock()
        for d in (root, root / "blobs", self.blobs, self.rootfs_dir, self.tmp):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        for leftover in self.tmp.iterdir():  # what a crash left
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

    def blob(self, digest: str) -> Path:
        return self.blobs / digest.removeprefix("sha256:")

    # -- sources -------------------------------------------------------------------------

    def get(self, image: str, auth: RegistryAuth | None) -> Image:
        """The image, pulled and unpacked if its root is not here yet. One pull at a time:
        layer blobs are deleted once unpacked, so two pulls never share one underway."""
        with self._lock:
            return self._get(image, auth)

    def prune(self, keep: set[Path]) -> list[Path]:
        """Remove the image roots not in `keep` (those no container uses and no recent pull
        named); the roots removed."""
        with self._lock:
            gone = []
            for rootfs in self.rootfs_dir.iterdir():
                if rootfs not in keep:
                    shutil.rmtree(rootfs, ignore_errors=True)
                    gone.append(rootfs)
            return gone

    def _get(self, image: str, auth: RegistryAuth | None) -> Image:
        if image.startswith(OCI_PREFIX):
            return self._from_layout(image[len(OCI_PREFIX) :])
        if image.startswith(ARCHIVE_PREFIX):
            return self._from_archive(image[len(ARCHIVE_PREFIX) :])
        return self._from_registry(parse_reference(image), auth, image)

    def _from_registry(self, ref: Reference, auth: RegistryAuth | None, image: str) -> Image:
        loopback = ref.registry.split(":")[0] in ("localhost", "127.0.0.1", "::1")
        base = f"{'http' if loopback else 'https'}://{ref.registry}/v2/{ref.repository}"
        credentials = (auth.username, auth.password) if auth else None
        try:
            with httpx.Client(auth=credentials, timeout=60, follow_redirects=True) as client:

                def manifest(reference: str) -> tuple[bytes, str]:
                    r = client.get(f"{base}/manifests/{reference}",
                                   headers={"accept": ", ".join(MANIFEST_TYPES)})  # fmt: skip
                    if r.status_code != 200:
                        raise DriverError(
                            f"CannotPullContainerError: {image}: manifest {reference}: "
                            f"{r.status_code} {r.text[:300]}"
                        )
                    if len(r.content) > MAX_MANIFEST:
                        raise DriverError(f"CannotPullContainerError: {image}: manifest too big")
                    media = r.headers.get("content-type", "").split(";")[0]
                    return r.content, media

                def fetch(digest: str) -> Path:
                    target = self.blob(digest)
                    if target.exists():
                        return target
                    tmp = self.tmp / uuid.uuid4().hex
                    h = hashlib.sha256()
                    with client.stream("GET", f"{base}/blobs/{digest}") as r:
                        if r.status_code != 200:
                            raise DriverError(
                                f"CannotPullContainerError: {image}: blob {digest}: {r.status_code}"
                            )
                        with open(os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600), "wb") as f:
                            for data in r.iter_bytes(CHUNK):
                                h.update(data)
                                f.write(data)
                    return self._keep(tmp, "sha256:" + h.hexdigest(), digest, image)

                body, media = manifest(ref.reference)
                return self._image(body, media, lambda d: manifest(d), fetch, image)
        except httpx.HTTPError as exc:
            raise DriverError(f"CannotPullContainerError: {image}: {exc}") from exc

    def _from_layout(self, spec: str) -> Image:
        directory, sep, tag = spec.rpartition(":")
        if not sep or "/" in tag:
            directory, tag = spec, ""
        layout = Path(directory)
        image = f"oci:{spec}"
        try:
            index = json.loads((layout / "index.json").read_text())
        except (OSError, ValueError) as exc:
            raise DriverError(f"CannotPullContainerError: {image}: no OCI layout: {exc}") from exc
        entries = index.get("manifests") or []
        if tag:
            entries = [e for e in entries
                       if (e.get("annotations") or {}).get("org.opencontainers.image.ref.name")
                       == tag]  # fmt: skip
        if not entries:
            raise DriverError(f"CannotPullContainerError: {image}: no such image in the layout")

        def local(digest: str) -> Path:
            source = layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
            target = self.blob(digest)
            if target.exists():
                return target
            tmp = self.tmp / uuid.uuid4().hex
            try:
                shutil.copyfile(source, tmp)
            except OSError as exc:
                raise DriverError(f"CannotPullContainerError: {image}: {exc}") from exc
            return self._keep(tmp, _sha256_file(tmp), digest, image)

        def manifest(digest: str) -> tuple[bytes, str]:
            data = local(digest).read_bytes()
            return data, str(json.loads(data).get("mediaType") or "")

        body, media = manifest(entries[0]["digest"])
        return self._image(body, media, manifest, local, image)

    def _from_archive(self, spec: str) -> Image:
        """A `docker save` tarball: `manifest.json` names each image's config and layers."""
        path, tag = spec, ""
        if not os.path.isfile(path) and ":" in spec:
            path, _, tag = spec.rpartition(":")
            if (
                tag
                and "/" not in tag
                and ":" not in tag
                and os.path.isfile(path.rpartition(":")[0])
            ):
                path, tag = path.rpartition(":")[0], f"{path.rpartition(':')[2]}:{tag}"
        image = f"{ARCHIVE_PREFIX}{spec}"
        try:
            with tarfile.open(path, "r:*") as tar:
                manifest = json.loads(self._member(tar, "manifest.json", image))
                entries = [e for e in manifest if not tag or tag in (e.get("RepoTags") or [])]
                if not entries:
                    raise DriverError(f"CannotPullContainerError: {image}: no such image in it")
                entry = entries[0]
                config_data = self._member(tar, entry["Config"], image)
                layers = []
                for name in entry.get("Layers") or []:
                    layers.append(self._keep_member(tar, name, image))
        except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
            raise DriverError(f"CannotPullContainerError: {image}: {exc}") from exc
        config_digest = "sha256:" + hashlib.sha256(config_data).hexdigest()
        rootfs = self.rootfs_dir / config_digest.removeprefix("sha256:")
        self._unpack(rootfs, [(p, "") for p in layers], image)
        return Image(rootfs, ImageConfig.of(json.loads(config_data)))

    @staticmethod
    def _member(tar: tarfile.TarFile, name: str, image: str) -> bytes:
        member = tar.extractfile(name)
        if member is None:
            raise DriverError(f"CannotPullContainerError: {image}: {name} is not a file")
        data = member.read(MAX_MANIFEST + 1)
        if len(data) > MAX_MANIFEST:
            raise DriverError(f"CannotPullContainerError: {image}: {name} is too big")
        return data

    def _keep_member(self, tar: tarfile.TarFile, name: str, image: str) -> Path:
        member = tar.extractfile(name)
        if member is None:
            raise DriverError(f"CannotPullContainerError: {image}: {name} is not a file")
        tmp = self.tmp / uuid.uuid4().hex
        h = hashlib.sha256()
        with open(os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600), "wb") as f:
            while data := member.read(CHUNK):
                h.update(data)
                f.write(data)
        digest = "sha256:" + h.hexdigest()
        return self._keep(tmp, digest, digest, image)

    # -- common --------------------------------------------------------------------------

    def _keep(self, tmp: Path, actual: str, digest: str, image: str) -> Path:
        if actual != digest:
            tmp.unlink(missing_ok=True)
            raise DriverError(
                f"CannotPullContainerError: {image}: blob {digest} arrived as {actual}"
            )
        target = self.blob(digest)
        os.replace(tmp, target)
        return target

    def _image(self, body: bytes, media: str, manifest: Any, fetch: Any, image: str) -> Image:
        doc = json.loads(body)
        media = str(doc.get("mediaType") or media)
        if media in INDEX_TYPES or "manifests" in doc:
            arch = host_arch()
            chosen = [
                m for m in doc.get("manifests") or []
                if (m.get("platform") or {}).get("os", "linux") == "linux"
                and (m.get("platform") or {}).get("architecture", arch) == arch
            ]  # fmt: skip
            if not chosen:
                raise DriverError(
                    f"CannotPullContainerError: {image}: no manifest for linux/{arch}"
                )
            body, media = manifest(chosen[0]["digest"])
            doc = json.loads(body)
        config_digest = doc["config"]["digest"]
        config_doc = json.loads(fetch(config_digest).read_bytes())
        layers = [(layer["digest"], str(layer.get("mediaType") or ""))
                  for layer in doc.get("layers") or []]  # fmt: skip
        rootfs = self.rootfs_dir / config_digest.removeprefix("sha256:")
        if not rootfs.exists():
            self._unpack(rootfs, [(fetch(d), m) for d, m in layers], image)
        return Image(rootfs, ImageConfig.of(config_doc))

    def _unpack(self, rootfs: Path, layers: list[tuple[Path, str]], image: str) -> None:
        """Apply the layers in order in a staging dir, then move it into place."""
        if rootfs.exists():
            return
        staging = self.tmp / uuid.uuid4().hex
        staging.mkdir()
        os.chmod(staging, 0o755)  # the image's / (the agent's umask is 077)
        try:
            for path, media_type in layers:
                ocirootfs.apply_layer(staging, path, media_type)
        except (OSError, ValueError, tarfile.TarError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise DriverError(f"CannotPullContainerError: {image}: layer: {exc}") from exc
        try:
            os.rename(staging, rootfs)
        except OSError:  # another pull of the same image got there first
            shutil.rmtree(staging, ignore_errors=True)
        for path, _ in layers:  # the root holds them now; a later pull fetches them again
            path.unlink(missing_ok=True)
