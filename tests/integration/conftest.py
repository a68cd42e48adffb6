"""Integration fixtures: a real server process and real clients (boto3, the AWS CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.server import DockyardProcess, client_env

REGION = "us-east-1"


@pytest.fixture(scope="session")
def dockyard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    """One server for the session (process runtime); tests keep to their own names."""
    server = DockyardProcess(tmp_path_factory.mktemp("dockyard") / "data", "--runtime", "process")
    server.start()
    yield server
    server.forget_tasks()
    server.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Callable[..., DockyardProcess]]:
    """Servers of one test's own (for restarts); all stopped at the end."""
    started: list[DockyardProcess] = []

    def start(
        *extra: str, data_dir: Path | None = None, port: int | None = None
    ) -> DockyardProcess:
        server = DockyardProcess(data_dir or tmp_path / "data", *extra, port=port)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.forget_tasks()
        server.stop()


def make_client(
    service: str, endpoint: str, access_key: str = "test", region: str = REGION, **config: Any
) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, **config),
    )


@pytest.fixture
def ecs(dockyard: DockyardProcess) -> Any:
    return make_client("ecs", dockyard.endpoint)


@pytest.fixture
def logs(dockyard: DockyardProcess) -> Any:
    return make_client("logs", dockyard.endpoint)


def run_aws(endpoint: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The AWS CLI (from the test venv), as a user would run it."""
    cmd = [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json", *args]
    return subprocess.run(
        cmd, env=client_env(endpoint), capture_output=True, text=True, check=check, timeout=60
    )


def aws_json(endpoint: str, *args: str) -> Any:
    out = run_aws(endpoint, *args).stdout
    return json.loads(out) if out.strip() else {}
