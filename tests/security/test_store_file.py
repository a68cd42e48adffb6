"""`dockyard server --store-file FILE`: the PostgreSQL URL (and its password) read from a
file, so it never shows in `ps`. Skipped, saying why, when PostgreSQL is not installed."""

from __future__ import annotations

from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.postgres import PASSWORD, PostgresServer, postgres_server
from tests.support.server import DockyardProcess

__all__ = ["postgres_server"]


def test_the_store_url_comes_from_a_file_and_stays_out_of_ps(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    store_file = tmp_path / "store-url"
    store_file.write_text(postgres_server.create_database() + "\n")
    store_file.chmod(0o600)
    data_dir = tmp_path / "data"
    first = DockyardProcess(
        data_dir, "--runtime", "process", "--no-local-agent", "--store-file", str(store_file)
    ).start()
    try:
        assert first.proc is not None
        cmdline = Path(f"/proc/{first.proc.pid}/cmdline").read_bytes()
        assert PASSWORD.encode() not in cmdline
        ecs = boto3.client(
            "ecs",
            endpoint_url=first.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        ecs.create_cluster(clusterName="kept-in-postgres")
    finally:
        first.kill()
    assert not (data_dir / "dockyard.sqlite3").exists()  # the state is in PostgreSQL
    second = DockyardProcess(
        data_dir, "--runtime", "process", "--no-local-agent", "--store-file", str(store_file)
    ).start()
    try:
        ecs = boto3.client(
            "ecs",
            endpoint_url=second.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}),
        )
        arns = ecs.list_clusters()["clusterArns"]
        assert any(arn.endswith("/kept-in-postgres") for arn in arns)
    finally:
        second.stop()
