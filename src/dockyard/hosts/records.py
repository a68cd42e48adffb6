"""What this machine remembers of a host, in `<state dir>/<id>/host.json` (0600): enough for a
new server process to list, halt and destroy it. Never a secret: the boot program's secret
environment lives in its process only. Blocking (files): call from a worker thread.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dockyard.core.hosts import BootKind, HostAddress, IngressRule

RECORD = "host.json"


@dataclass(slots=True)
class HostRecord:
    instance_id: str
    image_id: str
    boot: BootKind
    address: HostAddress
    hostname: str
    cluster: str
    rules: list[IngressRule] = field(default_factory=list)
    pid: int | None = None  # the boot program of the last boot
    started: int | None = None  # its start time (clock ticks since the machine booted)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["boot"] = str(self.boot)
        data["rules"] = [
            {**asdict(rule), "cidrs": list(rule.cidrs)} for rule in self.rules
        ]  # fmt: skip
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HostRecord:
        return cls(
            instance_id=str(data["instance_id"]),
            image_id=str(data["image_id"]),
            boot=BootKind(data["boot"]),
            address=HostAddress(**data["address"]),
            hostname=str(data["hostname"]),
            cluster=str(data["cluster"]),
            rules=[
                IngressRule(
                    r["protocol"], int(r["from_port"]), int(r["to_port"]), tuple(r["cidrs"])
                )
                for r in data.get("rules", [])
            ],
            pid=data.get("pid"),
            started=data.get("started"),
        )


def host_dir(state_dir: Path, instance_id: str) -> Path:
    return state_dir / instance_id


def make_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file that only root reads (atomically: a temporary file renamed)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def save(state_dir: Path, record: HostRecord) -> None:
    folder = make_dir(host_dir(state_dir, record.instance_id))
    write_private(folder / RECORD, json.dumps(record.to_json(), indent=1).encode())


def load(state_dir: Path, instance_id: str) -> HostRecord | None:
    try:
        data = json.loads((host_dir(state_dir, instance_id) / RECORD).read_text())
    except (OSError, ValueError):
        return None
    with contextlib.suppress(KeyError, TypeError, ValueError):
        return HostRecord.from_json(data)
    return None


def load_all(state_dir: Path) -> list[HostRecord]:
    if not state_dir.is_dir():
        return []
    found = []
    for entry in sorted(state_dir.iterdir()):
        if entry.is_dir() and (record := load(state_dir, entry.name)) is not None:
            found.append(record)
    return found
