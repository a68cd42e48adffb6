"""Layers applied in order: whiteouts, opaque directories, replacements, and nothing ever
written outside the root."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from dockyard.drivers.ocirootfs import apply_layer


def layer(tmp_path: Path, name: str, entries: list[tuple[str, bytes | str | None]]) -> Path:
    """bytes -> file, str -> symlink, None -> directory."""
    path = tmp_path / name
    with tarfile.open(path, "w") as tar:
        for member, content in entries:
            info = tarfile.TarInfo(member)
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o644
                tar.addfile(info, io.BytesIO(content))
    return path


def test_whiteouts_opaque_dirs_and_replacements(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    apply_layer(root, layer(tmp_path, "1.tar", [
        ("a", None), ("a/keep", b"1"), ("a/gone", b"1"), ("b", None), ("b/old", b"1"),
        ("c", b"file"), ("tmp", None),
    ]), "")  # fmt: skip
    apply_layer(root, layer(tmp_path, "2.tar", [
        ("a/.wh.gone", b""), ("b/.wh..wh..opq", b""), ("b/new", b"2"),
        ("c", None), ("c/inside", b"2"), ("./a/added", b"2"),
    ]), "")  # fmt: skip
    assert sorted(p.name for p in (root / "a").iterdir()) == ["added", "keep"]
    assert sorted(p.name for p in (root / "b").iterdir()) == ["new"]
    assert (root / "c").is_dir() and (root / "c" / "inside").read_bytes() == b"2"
    assert not any(p.name.startswith(".wh.") for p in root.rglob("*"))


def test_nothing_is_written_through_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    apply_layer(root, layer(tmp_path, "1.tar", [("escape", str(outside))]), "")
    with pytest.raises((ValueError, tarfile.TarError, OSError)):
        apply_layer(root, layer(tmp_path, "2.tar", [("escape/evil", b"x")]), "")
    with pytest.raises((ValueError, tarfile.TarError, OSError)):
        apply_layer(root, layer(tmp_path, "3.tar", [("escape/.wh.victim", b"")]), "")
    with pytest.raises((ValueError, tarfile.TarError, OSError)):
        apply_layer(root, layer(tmp_path, "4.tar", [("../evil", b"x")]), "")
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "evil").exists()


def test_a_file_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    target = tmp_path / "host-file"
    target.write_text("host")
    apply_layer(root, layer(tmp_path, "1.tar", [("link", str(target))]), "")
    apply_layer(root, layer(tmp_path, "2.tar", [("link", b"image")]), "")
    assert target.read_text() == "host"
    assert (root / "link").read_bytes() == b"image" and not (root / "link").is_symlink()
