"""A container image FROM scratch holding a python3 with boto3: this host's Python (its
binary, standard library and the shared libraries `ldd` lists) and the test venv's boto3,
botocore (its models for the services named only), dateutil, jmespath, urllib3, s3transfer
and six. No registry is reachable, so the image is built here."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import sysconfig
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PYTHON_IMAGE = "dockyard-test/python-boto3:latest"
PACKAGES = ("boto3", "botocore", "dateutil", "jmespath", "urllib3", "s3transfer", "six.py")
SKIP_STDLIB = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "__pycache__"}
SITE = "/opt/site"
DOCKERFILE = f"""FROM scratch
COPY root/ /
ENV PYTHONPATH={SITE} PYTHONDONTWRITEBYTECODE=1 PATH=/usr/bin
ENTRYPOINT ["/usr/bin/python3"]
""".encode()


def _python() -> tuple[Path, Path]:
    """The host's python3 binary and its standard library (the system's, readable by all)."""
    for candidate in (Path("/usr/bin/python3"), Path(sys.executable)):
        if candidate.exists():
            binary = candidate.resolve()
            out = subprocess.run(
                [str(binary), "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            return binary, Path(out.stdout.strip())
    raise FileNotFoundError("no python3 on this host")


def _libraries(files: Iterable[Path]) -> set[Path]:
    found: set[Path] = set()
    for path in files:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True)
        for match in re.finditer(r"(/\S+\.so[\w.]*)", out.stdout):
            found.add(Path(match.group(1)))
    return found


def _add(tar: tarfile.TarFile, path: Path, arcname: str) -> None:
    """Add `path` (following symlinks) under root/`arcname`."""
    tar.add(str(path.resolve()), arcname=f"root/{arcname.lstrip('/')}", recursive=False)


def _tree(tar: tarfile.TarFile, top: Path, dest: str, skip: set[str], keep: Any = None) -> None:
    for path in sorted(top.rglob("*")):
        rel = path.relative_to(top)
        if any(part in skip for part in rel.parts) or path.is_dir():
            continue
        if keep is not None and not keep(rel):
            continue
        _add(tar, path, f"{dest}/{rel}")


def build_python_image(client: Any, services: Iterable[str] = ("ssm", "sts")) -> str:
    """Build (or rebuild) the image with the `docker` SDK client; returns its tag."""
    binary, stdlib = _python()
    site = Path(sysconfig.get_paths()["purelib"])
    wanted = set(services)

    def botocore_file(rel: Path) -> bool:  # the models of `services` and the shared data
        parts = rel.parts
        return len(parts) < 2 or parts[0] != "data" or len(parts) == 2 or parts[1] in wanted

    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(DOCKERFILE)
        tar.addfile(info, io.BytesIO(DOCKERFILE))
        _add(tar, binary, "/usr/bin/python3")
        _tree(tar, stdlib, str(stdlib), SKIP_STDLIB)
        dynload = stdlib / "lib-dynload"
        shared = [binary, *dynload.glob("*.so")] if dynload.is_dir() else [binary]
        for lib in sorted(_libraries(shared)):
            _add(tar, lib, str(lib))
        for name in PACKAGES:
            path = site / name
            if path.is_file():
                _add(tar, path, f"{SITE}/{name}")
            else:
                keep = botocore_file if name == "botocore" else None
                _tree(tar, path, f"{SITE}/{name}", {"__pycache__"}, keep)
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=PYTHON_IMAGE, rm=True)
    return PYTHON_IMAGE
