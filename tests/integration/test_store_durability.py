"""What a client saw succeed is stored, what it saw fail is not: with the data dir on a full
disk (a 1 MiB tmpfs) and with PostgreSQL stopped mid-run. A refused write answers a
retryable 503 ServiceUnavailable, the server keeps answering reads, and after a `kill -9`
and a restart exactly the acknowledged clusters are there."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.conftest import REGION
from tests.support.postgres import start_postgres
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

StartServer = Callable[..., DockyardProcess]
MAX_CALLS = 5000  # a 1 MiB disk is full long before this
FAILURES_WANTED = 5  # calls that must fail once the disk is full


def retrying_ecs(endpoint: str) -> Any:
    return retrying_client("ecs", endpoint)


def retrying_client(service: str, endpoint: str) -> Any:
    """A client as users have it: the SDK retries 5xx answers on its own."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )


def cluster_names(ecs: Any) -> set[str]:
    names: set[str] = set()
    for page in ecs.get_paginator("list_clusters").paginate():
        names |= {arn.rsplit("/", 1)[1] for arn in page["clusterArns"]}
    return names


def create(ecs: Any, name: str, ok: list[str], failed: list[str], codes: list[str]) -> None:
    """One CreateCluster (with the SDK's retries); the name goes where the client saw it go."""
    try:
        ecs.create_cluster(clusterName=name, tags=[{"key": "pad", "value": "x" * 200}])
        ok.append(name)
    except ClientError as err:
        failed.append(name)
        codes.append(err.response["Error"]["Code"])


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "data"  # the server's log goes beside it, not on it
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield disk
    with contextlib.suppress(subprocess.CalledProcessError):
        subprocess.run(["umount", "-l", str(disk)], check=True)


def test_full_disk_answers_503_and_loses_nothing_acknowledged(
    small_disk: Path, fresh_server: StartServer
) -> None:
    server = fresh_server("--runtime", "process", data_dir=small_disk)
    ecs = retrying_ecs(server.endpoint)
    ssm = retrying_client("ssm", server.endpoint)
    parameter = f"/durability/{uuid.uuid4().hex[:6]}"
    ssm.put_parameter(Name=parameter, Value="first", Type="String")
    logs = retrying_client("logs", server.endpoint)
    logs.create_log_group(logGroupName="/durability")
    logs.create_log_stream(logGroupName="/durability", logStreamName="s")
    prefix = f"full-{uuid.uuid4().hex[:6]}-"
    ok: list[str] = []
    failed: list[str] = []
    codes: list[str] = []
    for i in range(MAX_CALLS):
        create(ecs, f"{prefix}{i:05d}" + "n" * 180, ok, failed, codes)
        if len(failed) >= FAILURES_WANTED:
            break
    assert len(failed) >= FAILURES_WANTED, "the 1 MiB disk never filled"
    assert ok, "nothing succeeded before the disk was full"
    assert set(codes) == {"ServiceUnavailable"}

    # The server still answers: reads see exactly what was acknowledged.
    assert server.proc is not None and server.proc.poll() is None
    seen = {n for n in cluster_names(ecs) if n.startswith(prefix)}
    assert seen == set(ok)
    # Writes that change a stored record: SQLite may still find room for one in its journal,
    # so delete clusters until the disk refuses one; a refused delete changed nothing.
    deleted: list[str] = []
    refused: ClientError | None = None
    for name in ok[:20]:
        try:
            ecs.delete_cluster(cluster=name)
            deleted.append(name)
        except ClientError as err:
            refused = err
            break
    assert refused is not None, "every delete went through on a full disk"
    assert refused.response["Error"]["Code"] == "ServiceUnavailable"
    assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    kept = ok[len(deleted)]
    described = ecs.describe_clusters(clusters=[kept])["clusters"]
    assert [c["status"] for c in described] == ["ACTIVE"]  # the refused delete changed nothing
    ok = [name for name in ok if name not in deleted]  # acknowledged: those are gone

    # A refused overwrite (a change made in place) leaves the parameter as last stored.
    expected, refusals = ("first", 1), 0
    for i in range(10):
        value = f"v{i}-" + "x" * 4000
        try:
            version = ssm.put_parameter(Name=parameter, Value=value, Overwrite=True)["Version"]
            expected = (value, version)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ServiceUnavailable"
            refusals += 1
        got = ssm.get_parameter(Name=parameter)["Parameter"]
        assert (got["Value"], got["Version"]) == expected
        if refusals >= 2:
            break
    assert refusals > 0

    # Log events go to their own SQLite file on the same disk: refused batches are 503s and
    # leave nothing behind; what was accepted is read back whole.
    accepted: list[str] = []
    refused_batches = 0
    for i in range(40):
        message = f"line {i} " + "y" * 60_000
        try:
            logs.put_log_events(
                logGroupName="/durability",
                logStreamName="s",
                logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
            )
            accepted.append(message)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ServiceUnavailable"
            refused_batches += 1
            if refused_batches >= 2:
                break
    assert refused_batches > 0
    read = logs.get_log_events(logGroupName="/durability", logStreamName="s", startFromHead=True)
    assert [e["message"] for e in read["events"]] == accepted

    server.kill()  # SIGKILL, then a start on the same, still full, disk
    again = fresh_server("--runtime", "process", data_dir=small_disk)
    after = {n for n in cluster_names(retrying_ecs(again.endpoint)) if n.startswith(prefix)}
    assert after == set(ok)
    assert not after & set(failed)
    got = retrying_client("ssm", again.endpoint).get_parameter(Name=parameter)["Parameter"]
    assert (got["Value"], got["Version"]) == expected


def test_postgresql_stopped_mid_run_answers_503_and_loses_nothing_acknowledged(
    fresh_server: StartServer, tmp_path: Path
) -> None:
    database = start_postgres()  # a server of this test's own, to stop
    try:
        url = database.create_database()
        server = fresh_server("--no-local-agent", "--store", url, data_dir=tmp_path / "d")
        ecs = retrying_ecs(server.endpoint)
        prefix = f"pg-{uuid.uuid4().hex[:6]}-"
        ok: list[str] = []
        failed: list[str] = []
        codes: list[str] = []
        for i in range(20):
            create(ecs, f"{prefix}a{i:03d}", ok, failed, codes)
        assert len(ok) == 20 and not failed

        database.stop()
        for i in range(10):
            create(ecs, f"{prefix}b{i:03d}", ok, failed, codes)
        assert len(failed) == 10 and set(codes) == {"ServiceUnavailable"}
        assert server.proc is not None and server.proc.poll() is None
        assert {n for n in cluster_names(ecs) if n.startswith(prefix)} == set(ok)

        database.start()
        for i in range(10):  # the store reconnects: writes succeed again
            create(ecs, f"{prefix}c{i:03d}", ok, failed, codes)
        assert len(ok) == 30 and len(failed) == 10

        server.kill()
        again = fresh_server("--no-local-agent", "--store", url, data_dir=tmp_path / "d")
        after = {n for n in cluster_names(retrying_ecs(again.endpoint)) if n.startswith(prefix)}
        assert after == set(ok)
        assert not after & set(failed)
    finally:
        database.destroy()


def test_a_task_that_exits_while_the_disk_is_full_is_reported_stopped(
    small_disk: Path, fresh_server: StartServer, tmp_path: Path
) -> None:
    server = fresh_server("--runtime", "process", data_dir=small_disk)
    ecs = retrying_ecs(server.endpoint)
    go = tmp_path / "go"
    script = f"while [ ! -e {go} ]; do sleep 0.1; done"
    ecs.register_task_definition(family="full", containerDefinitions=[
        {"name": "w", "image": "process:/tmp", "memory": 64, "command": ["sh", "-c", script]},
    ])  # fmt: skip
    task_arn = ecs.run_task(taskDefinition="full")["tasks"][0]["taskArn"]

    def status() -> str:
        return str(ecs.describe_tasks(tasks=[task_arn])["tasks"][0]["lastStatus"])

    wait_for(lambda: status() == "RUNNING", timeout=30, what="the task to run")
    filler = small_disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
    go.touch()  # the process exits now, with no room left for the agent's state file
    wait_for(
        lambda: status() == "STOPPED" or "cannot save the state of task" in server.log(),
        timeout=30,
        what="the agent to see the exit",
    )
    filler.unlink()
    wait_for(lambda: status() == "STOPPED", timeout=30, what="the task to be reported STOPPED")
    task = ecs.describe_tasks(tasks=[task_arn])["tasks"][0]
    assert task["stoppedReason"] == "Essential container in task exited"
    assert server.proc is not None and server.proc.poll() is None


def test_changes_of_several_records_survive_kill_9_whole(
    fresh_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "multi"
    server = fresh_server("--no-local-agent", data_dir=data)
    ecs = retrying_ecs(server.endpoint)
    logs = retrying_client("logs", server.endpoint)
    cd = retrying_client("codedeploy", server.endpoint)
    container = {"name": "w", "image": "process:/tmp", "memory": 64, "command": ["true"]}
    for _ in range(2):  # each: the revision and the family's counter, together
        ecs.register_task_definition(family="multi", containerDefinitions=[container])
    logs.create_log_group(logGroupName="/gone")
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName="/gone", logStreamName=stream)
    logs.delete_log_group(logGroupName="/gone")  # the group and its streams, together
    cd.create_application(applicationName="before", computePlatform="ECS")
    cd.update_application(applicationName="before", newApplicationName="after")

    server.kill()
    again = fresh_server("--no-local-agent", data_dir=data)
    ecs = retrying_ecs(again.endpoint)
    logs = retrying_client("logs", again.endpoint)
    cd = retrying_client("codedeploy", again.endpoint)
    revision = ecs.register_task_definition(family="multi", containerDefinitions=[container])
    assert revision["taskDefinition"]["revision"] == 3
    assert logs.describe_log_groups(logGroupNamePrefix="/gone")["logGroups"] == []
    logs.create_log_group(logGroupName="/gone")
    assert logs.describe_log_streams(logGroupName="/gone")["logStreams"] == []
    assert cd.list_applications()["applications"] == ["after"]
