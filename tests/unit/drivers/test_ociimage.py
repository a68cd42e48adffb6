"""The process driver's image store: an OCI layout unpacked once, layers let go after
unpacking, roots pruned when nothing keeps them, and the config read."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.drivers.base import DriverError
from dockyard.drivers.ociimage import ImageStore, parse_reference
from tests.support.ociimages import BUSYBOX, write_oci_layout

pytestmark = pytest.mark.skipif(not BUSYBOX.exists(), reason="busybox-static is not installed")


def test_layout_unpacked_once_then_pruned(tmp_path: Path) -> None:
    write_oci_layout(tmp_path / "layout", "v1", {"Cmd": ["sh"], "Env": ["A=b"], "User": "web"})
    store = ImageStore(tmp_path / "images")
    image = store.get(f"oci:{tmp_path / 'layout'}:v1", None)
    assert (image.rootfs / "bin" / "busybox").is_file()
    assert image.config.cmd == ["sh"] and image.config.env == ["A=b"]
    assert image.config.user == "web"
    assert len(list(store.blobs.iterdir())) == 2  # the manifest and the config; no layers
    again = store.get(f"oci:{tmp_path / 'layout'}:v1", None)
    assert again.rootfs == image.rootfs
    assert store.prune({image.rootfs}) == []
    assert store.prune(set()) == [image.rootfs]
    assert not image.rootfs.exists()
    assert store.get(f"oci:{tmp_path / 'layout'}:v1", None).rootfs.exists()  # unpacked anew
    with pytest.raises(DriverError, match="no such image"):
        store.get(f"oci:{tmp_path / 'layout'}:v2", None)


def test_references() -> None:
    ref = parse_reference("localhost:4566/team/app:v1")
    assert (ref.registry, ref.repository, ref.reference) == ("localhost:4566", "team/app", "v1")
    ref = parse_reference("registry.example.com/app@sha256:" + "a" * 64)
    assert ref.reference == "sha256:" + "a" * 64
    assert parse_reference("localhost:4566/app").reference == "latest"
    with pytest.raises(DriverError):
        parse_reference("busybox")
