"""Unpacking image layers into a rootfs, in order, as the OCI image spec says: whiteouts
(`.wh.<name>` removes `<name>` of the layers below) and opaque directories
(`.wh..wh..opq` hides everything the layers below put in that directory).

Extraction never writes outside the rootfs: tarfile's `tar` filter refuses absolute paths,
`..` and paths that resolve (through symlinks already extracted) outside it; whiteouts are
checked the same way. Ownership is kept numerically (as root), as Docker does.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


def _inside(root: Path, relative: str) -> Path:
    target = root / relative
    resolved = Path(os.path.realpath(target.parent)) / target.name
    if os.path.commonpath([str(root), str(resolved)]) != str(root):
        raise ValueError(f"{relative} points outside the image")
    return resolved


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _mode(media_type: str, path: Path) -> str:
    if media_type.endswith("+zstd") or media_type.endswith(".zstd"):
        raise ValueError(f"zstd layers are not supported ({path.name})")
    return "r:*"  # gzip or plain tar, told by their bytes


def apply_layer(root: Path, layer: Path, media_type: str) -> None:
    """Apply one layer (a tar, maybe gzipped) on top of `root`."""
    root = Path(os.path.realpath(root))
    mode = _mode(media_type, layer)
    with tarfile.open(layer, mode) as tar:  # type: ignore[call-overload]
        members = tar.getmembers()
        keep: list[tarfile.TarInfo] = []
        for member in members:
            name = member.name.lstrip("/")
            while name.startswith("./"):
                name = name[2:]
            directory, _, base = name.rpartition("/")
            if base == OPAQUE:
                where = _inside(root, directory) if directory else root
                if where.is_dir():
                    for child in where.iterdir():
                        _remove(child)
            elif base.startswith(WHITEOUT):
                hidden = f"{directory}/{base[len(WHITEOUT) :]}" if directory else base[4:]
                _remove(_inside(root, hidden))
            else:
                keep.append(member)
        for member in keep:  # a file replacing a directory (or the reverse) replaces it
            name = member.name.lstrip("/")
            if not name or name in (".", "./"):
                continue
            existing = _inside(root, name)
            if (existing.exists() or existing.is_symlink()) and not (
                member.isdir() and existing.is_dir() and not existing.is_symlink()
            ):
                _remove(existing)
        tar.extractall(root, members=keep, numeric_owner=True, filter=_keep_modes)


def _keep_modes(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo:
    """tarfile's `tar` filter (no absolute paths, nothing outside the root), with the
    layer's own modes kept (a container's /tmp is 1777, a setuid binary stays setuid)."""
    checked = tarfile.tar_filter(member, path)
    return checked.replace(mode=member.mode, deep=False) if member.mode is not None else checked
