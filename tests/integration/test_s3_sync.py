"""`aws s3 sync / cp / ls` of a directory tree of 1,000 files, up and down."""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

from tests.integration.conftest import run_aws
from tests.support.server import DockyardProcess


def _tree(root: Path, count: int) -> list[Path]:
    files = []
    for i in range(count):
        folder = root / f"d{i % 10}" / f"s{i % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (f"file {i}+x.txt" if i % 50 == 0 else f"f{i}.bin")
        path.write_bytes(os.urandom(i % 3000) + str(i).encode())
        files.append(path)
    return files


def _same_tree(a: Path, b: Path) -> None:
    left = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    right = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert left == right
    match, mismatch, errors = filecmp.cmpfiles(a, b, [str(p) for p in left], shallow=False)
    assert (mismatch, errors) == ([], [])
    assert len(match) == len(left)


def test_sync_a_thousand_files_up_and_down(dockyard: DockyardProcess, tmp_path: Path) -> None:
    up, down = tmp_path / "up", tmp_path / "down"
    files = _tree(up, 1000)
    endpoint = dockyard.endpoint
    assert "make_bucket: sync-tree" in run_aws(endpoint, "s3", "mb", "s3://sync-tree").stdout
    run_aws(endpoint, "s3", "sync", str(up), "s3://sync-tree/tree", "--only-show-errors")
    listed = run_aws(endpoint, "s3", "ls", "--recursive", "s3://sync-tree/tree/").stdout
    assert len(listed.splitlines()) == 1000
    run_aws(endpoint, "s3", "sync", "s3://sync-tree/tree", str(down), "--only-show-errors")
    _same_tree(up, down)
    # Nothing changed: a second sync has nothing to send.
    again = run_aws(endpoint, "s3", "sync", str(up), "s3://sync-tree/tree")
    assert again.stdout.strip() == ""
    # A changed file goes up again, alone; cp and ls of one object.
    files[3].write_bytes(b"changed")
    changed = run_aws(endpoint, "s3", "sync", str(up), "s3://sync-tree/tree").stdout
    assert changed.count("upload:") == 1
    out = tmp_path / "one.bin"
    rel = files[3].relative_to(up).as_posix()
    run_aws(endpoint, "s3", "cp", f"s3://sync-tree/tree/{rel}", str(out))
    assert out.read_bytes() == b"changed"
    top = run_aws(endpoint, "s3", "ls", "s3://sync-tree/tree/").stdout
    assert sorted(line.split()[-1] for line in top.splitlines()) == [f"d{i}/" for i in range(10)]
    # --delete on the way down removes what the bucket no longer has.
    run_aws(endpoint, "s3", "rm", f"s3://sync-tree/tree/{rel}")
    run_aws(endpoint, "s3", "sync", "--delete", "s3://sync-tree/tree", str(down))
    assert not (down / rel).exists()
