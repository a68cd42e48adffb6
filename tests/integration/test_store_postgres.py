"""A real server keeping its state in PostgreSQL (`--store postgresql://...`): what it
acknowledged survives `kill -9`, each database is its own world, and an unreachable or
restarted database is handled. Skipped, saying why, when PostgreSQL is not installed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.postgres import PASSWORD, PostgresServer, postgres_server, start_postgres
from tests.support.server import DockyardProcess, free_port

__all__ = ["postgres_server"]

StartServer = Callable[..., DockyardProcess]
CONTAINER = {"name": "web", "image": "process:/tmp", "memory": 64, "command": ["sleep", "60"]}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def cluster_names(ecs: Any) -> set[str]:
    return {a.rsplit("/", 1)[1] for a in ecs.list_clusters()["clusterArns"]}


def test_state_survives_kill_9_and_a_restart_on_the_same_database(
    postgres_server: PostgresServer, fresh_server: StartServer, tmp_path: Path
) -> None:
    url = postgres_server.create_database()
    data_dir = tmp_path / "data"
    first = fresh_server("--runtime", "process", "--store", url, data_dir=data_dir)
    ecs = make_client("ecs", first.endpoint)
    cluster, family = unique("pg"), unique("pgfam")
    arn = ecs.create_cluster(clusterName=cluster, tags=[{"key": "team", "value": "blue"}])[
        "cluster"
    ]["clusterArn"]
    ecs.register_task_definition(family=family, containerDefinitions=[CONTAINER])
    ecs.register_task_definition(family=family, containerDefinitions=[{**CONTAINER, "cpu": 128}])

    first.kill()  # SIGKILL: no shutdown, nothing flushed on the way out
    assert first.proc is not None and first.proc.returncode == -9
    assert not (data_dir / "dockyard.sqlite3").exists()  # the state is not in the data dir

    second = fresh_server("--runtime", "process", "--store", url, data_dir=data_dir)
    ecs = make_client("ecs", second.endpoint)
    described = ecs.describe_clusters(clusters=[cluster], include=["TAGS"])
    assert described["failures"] == []
    assert described["clusters"][0]["clusterArn"] == arn
    assert described["clusters"][0]["status"] == "ACTIVE"
    assert described["clusters"][0]["tags"] == [{"key": "team", "value": "blue"}]
    td = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
    assert td["revision"] == 2
    assert td["containerDefinitions"][0]["cpu"] == 128
    assert td["containerDefinitions"][0]["command"] == ["sleep", "60"]
    listed = ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
    assert [a.rsplit(":", 1)[1] for a in listed] == ["1", "2"]
    again = ecs.register_task_definition(family=family, containerDefinitions=[CONTAINER])
    assert again["taskDefinition"]["revision"] == 3


def test_two_servers_on_two_databases_do_not_mix(
    postgres_server: PostgresServer, fresh_server: StartServer, tmp_path: Path
) -> None:
    one = fresh_server(
        "--no-local-agent", "--store", postgres_server.create_database(), data_dir=tmp_path / "a"
    )
    two = fresh_server(
        "--no-local-agent", "--store", postgres_server.create_database(), data_dir=tmp_path / "b"
    )
    ecs_one, ecs_two = make_client("ecs", one.endpoint), make_client("ecs", two.endpoint)
    shared, only_two, family = unique("both"), unique("two"), unique("fam")
    ecs_one.create_cluster(clusterName=shared, tags=[{"key": "owner", "value": "one"}])
    ecs_two.create_cluster(clusterName=shared, tags=[{"key": "owner", "value": "two"}])
    ecs_two.create_cluster(clusterName=only_two)
    for _ in range(2):
        ecs_one.register_task_definition(family=family, containerDefinitions=[CONTAINER])
    ecs_two.register_task_definition(family=family, containerDefinitions=[CONTAINER])

    assert shared in cluster_names(ecs_one) and only_two not in cluster_names(ecs_one)
    assert {shared, only_two} <= cluster_names(ecs_two)

    def owner(ecs: Any) -> str:
        cluster = ecs.describe_clusters(clusters=[shared], include=["TAGS"])["clusters"][0]
        return str(cluster["tags"][0]["value"])

    assert (owner(ecs_one), owner(ecs_two)) == ("one", "two")
    for ecs, revision in ((ecs_one, 2), (ecs_two, 1)):
        td = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
        assert td["revision"] == revision


def test_unreachable_database_stops_the_server_at_start_naming_it(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://dockyard:{PASSWORD}@127.0.0.1:{port}/state"
    server = DockyardProcess(tmp_path / "data", "--no-local-agent", "--store", url)
    with pytest.raises(RuntimeError, match="dockyard server exited"):
        server.start()
    assert server.proc is not None and server.proc.returncode == 2
    log = server.log()
    shown = f"postgresql://dockyard@127.0.0.1:{port}/state"
    assert f"cannot reach the PostgreSQL store at {shown}" in log
    assert PASSWORD not in log
    assert "Traceback" not in log


def test_server_carries_on_after_the_database_restarts(
    fresh_server: StartServer, tmp_path: Path
) -> None:
    database = start_postgres()  # a server of this test's own, to restart
    try:
        url = database.create_database()
        server = fresh_server("--no-local-agent", "--store", url, data_dir=tmp_path / "d")
        ecs = make_client("ecs", server.endpoint)
        before, after = unique("before"), unique("after")
        ecs.create_cluster(clusterName=before)
        database.restart()
        ecs.create_cluster(clusterName=after)  # the store reconnects; the request succeeds
        assert cluster_names(ecs) == {before, after}
        server.kill()
        server = fresh_server("--no-local-agent", "--store", url, data_dir=tmp_path / "d")
        assert cluster_names(make_client("ecs", server.endpoint)) == {before, after}
        server.stop()
    finally:
        database.destroy()
