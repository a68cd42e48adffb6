"""The data dir is the user's alone: 0700, its files 0600; the values of a task's secrets
(SSM SecureString, Secrets Manager) reach the container's process but no file of the agent or
the process driver, while the task runs or after it stopped."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or sys.platform != "linux", reason="the process runtime's files need root"
)

PASSWORD = "pw-" + uuid.uuid4().hex  # an SSM SecureString
TOKEN = "tok-" + uuid.uuid4().hex  # a key of a Secrets Manager JSON secret


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DockyardProcess]:
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)  # as an older Dockyard left it: the server narrows it
    proc = DockyardProcess(data, "--runtime", "process").start()
    yield proc
    proc.forget_tasks()
    proc.stop()


def task_of(ecs: Any, arn: str) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = ecs.describe_tasks(cluster="default", tasks=[arn])["tasks"]
    return tasks[0]


def files_holding(root: Path, values: list[bytes], skip: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name not in skip:
            data = path.read_bytes()
            found += [f"{path}: {v.decode()}" for v in values if v in data]
    return found


def wider_than_private(root: Path) -> list[str]:
    wrong = []
    for path in [root, *sorted(root.rglob("*"))]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            continue
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            wrong.append(f"{path}: {mode:o}, want {want:o}")
    return wrong


def test_secret_values_stay_out_of_the_data_dir_and_its_modes_are_private(
    server: DockyardProcess,
) -> None:
    ssm = make_client("ssm", server.endpoint)
    sm = make_client("secretsmanager", server.endpoint)
    ecs = make_client("ecs", server.endpoint)
    ssm.put_parameter(Name="/sec/db/password", Value=PASSWORD, Type="SecureString")
    secret_arn = sm.create_secret(Name="sec/api", SecretString=json.dumps({"token": TOKEN}))["ARN"]
    family = "secrets-" + uuid.uuid4().hex[:6]
    taskdef = ecs.register_task_definition(
        family=family,
        containerDefinitions=[{
            "name": "app",
            "image": "process:/tmp",
            "memory": 64,
            "essential": True,
            "entryPoint": ["sh", "-c"],
            "command": ["exec sleep 600"],
            "environment": [{"name": "PLAIN", "value": "plain-value"}],
            "secrets": [
                {"name": "DB_PASSWORD", "valueFrom": "/sec/db/password"},
                {"name": "API_TOKEN", "valueFrom": f"{secret_arn}:token::"},
            ],
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    running = wait_for(
        lambda: (t := task_of(ecs, arn))["lastStatus"] == "RUNNING" and t,
        timeout=20,
        what="the task RUNNING",
    )
    runtime_id = running["containers"][0]["runtimeId"]
    pid_file = next(server.data_dir.glob(f"agent/**/{runtime_id}/pid.json"))
    pid = json.loads(pid_file.read_text())["pid"]

    # The process has both values: they were delivered, in memory.
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert f"DB_PASSWORD={PASSWORD}".encode() in environ
    assert f"API_TOKEN={TOKEN}".encode() in environ
    assert b"PLAIN=plain-value" in environ

    values = [PASSWORD.encode(), TOKEN.encode()]
    agent_dir = server.data_dir / "agent"
    # While it runs: the agent's task record and the driver's config exist, without them.
    assert list(agent_dir.glob("agent/tasks/*.json"))
    assert list(agent_dir.glob(f"process/containers/{runtime_id}/config.json"))
    assert files_holding(agent_dir, values) == []
    assert wider_than_private(server.data_dir) == []

    ecs.stop_task(task=arn)
    wait_for(lambda: task_of(ecs, arn)["lastStatus"] == "STOPPED", 20, "the task STOPPED")
    assert not Path(f"/proc/{pid}").exists()

    # After: nothing of the task's secrets anywhere in the data dir, the store included:
    # SSM parameters and Secrets Manager secrets are sealed there (AES-GCM, store.key).
    assert files_holding(server.data_dir, values) == []
    assert wider_than_private(server.data_dir) == []
    db = sqlite3.connect(f"file:{server.data_dir / 'dockyard.sqlite3'}?mode=ro", uri=True)
    try:
        kinds = {kind for kind, body in db.execute("SELECT kind, body FROM records")
                 if body.startswith('{"sealed":')}  # fmt: skip
    finally:
        db.close()
    # (SNS's message-signing key, made at the first start, is sealed the same way.)
    assert kinds == {"ssm.parameter", "secretsmanager.secret", "sns.signing-key"}
    # ... and the services still answer with the values.
    assert (
        ssm.get_parameter(Name="/sec/db/password", WithDecryption=True)["Parameter"]["Value"]
        == PASSWORD
    )
    assert TOKEN in sm.get_secret_value(SecretId=secret_arn)["SecretString"]
    names = {p.name for p in server.data_dir.iterdir()}
    assert {"dockyard.sqlite3", "logs.sqlite3", "metrics.sqlite3", "agent", "store.key"} <= names
    assert any(n.endswith("-wal") for n in names)  # SQLite's journals are checked too
