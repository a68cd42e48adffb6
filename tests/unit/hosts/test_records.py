from __future__ import annotations

from pathlib import Path

from dockyard.core.hosts import BootKind, HostAddress, IngressRule
from dockyard.hosts import records
from dockyard.hosts.records import HostRecord


def record(iid: str = "i-1") -> HostRecord:
    return HostRecord(
        instance_id=iid, image_id="ami-1", boot=BootKind.ECS_AGENT,
        address=HostAddress("vpc-1", "10.0.0.0/16", "10.0.1.0/24", "10.0.1.5", "02:00:00:00:00:05"),
        hostname="ip-10-0-1-5.ec2.internal", cluster="web",
        rules=[IngressRule("tcp", 80, 80, ("0.0.0.0/0",))], pid=12, started=34,
    )  # fmt: skip


def test_a_record_survives_the_round_trip_privately(tmp_path: Path) -> None:
    records.save(tmp_path, record())
    assert records.load(tmp_path, "i-1") == record()
    assert (tmp_path / "i-1").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "i-1" / "host.json").stat().st_mode & 0o777 == 0o600


def test_load_all_skips_what_is_not_a_host(tmp_path: Path) -> None:
    records.save(tmp_path, record("i-2"))
    records.save(tmp_path, record("i-1"))
    (tmp_path / "junk").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "host.json").write_text("{not json")
    assert [r.instance_id for r in records.load_all(tmp_path)] == ["i-1", "i-2"]
    assert records.load_all(tmp_path / "missing") == []
