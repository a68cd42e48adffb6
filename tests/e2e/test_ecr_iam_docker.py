"""docker against the registry under IAM: a user whose policy allows pulls but not pushes
logs in with its own ECR token, `docker pull`s, and is denied on `docker push`."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.images import BUSYBOX, DOCKERFILE
from tests.support.server import DockyardProcess

pytestmark = pytest.mark.e2e

ACCOUNT = "111122223333"


def sh(cmd: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, shell=True, env=env, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"{cmd}\n{done.stdout}\n{done.stderr}")
    return done


def test_pull_allowed_and_push_denied_by_the_users_policy(tmp_path: Path) -> None:
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is not installed at /bin/busybox")
    auth = tmp_path / "auth"
    auth.write_text(f"AKIDROOTECRIAM secret-root {ACCOUNT}\n")
    auth.chmod(0o600)
    server = DockyardProcess(tmp_path / "data", "--auth-file", str(auth), "--no-local-agent")
    server.start()
    owner_config, user_config = tmp_path / "owner-docker", tmp_path / "user-docker"
    owner_config.mkdir()
    user_config.mkdir()
    owner_env = {**os.environ, "DOCKER_CONFIG": str(owner_config)}
    user_env = {**os.environ, "DOCKER_CONFIG": str(user_config)}

    def client(service: str, key: str, secret: str) -> Any:
        return boto3.client(service, endpoint_url=server.endpoint, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret)  # fmt: skip

    def login(ecr: Any, registry: str, env: dict[str, str]) -> None:
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        password = base64.b64decode(token).decode().partition(":")[2]
        sh(f"echo '{password}' | docker login -u AWS --password-stdin {registry}", env)

    root_ecr = client("ecr", "AKIDROOTECRIAM", "secret-root")
    iam = client("iam", "AKIDROOTECRIAM", "secret-root")
    uri = root_ecr.create_repository(repositoryName="iam-web")["repository"]["repositoryUri"]
    registry = uri.split("/")[0]
    try:
        login(root_ecr, registry, owner_env)
        context = tmp_path / "build"
        context.mkdir()
        shutil.copy(BUSYBOX, context / "busybox")
        (context / "Dockerfile").write_bytes(DOCKERFILE)
        sh(f"docker build -q -t {uri}:v1 {context}", owner_env)
        sh(f"docker push {uri}:v1", owner_env)
        sh(f"docker rmi -f {uri}:v1", owner_env)

        iam.create_user(UserName="dev")
        iam.put_user_policy(UserName="dev", PolicyName="pull", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                               "ecr:BatchCheckLayerAvailability"],
                 "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/iam-web"},
            ],
        }))  # fmt: skip
        key = iam.create_access_key(UserName="dev")["AccessKey"]
        dev_ecr = client("ecr", key["AccessKeyId"], key["SecretAccessKey"])
        login(dev_ecr, registry, user_env)
        sh(f"docker pull {uri}:v1", user_env)
        sh(f"docker tag {uri}:v1 {uri}:v2", user_env)
        pushed = sh(f"docker push {uri}:v2", user_env, check=False)
        assert pushed.returncode != 0
        out = pushed.stdout + pushed.stderr
        assert "denied" in out and f"arn:aws:iam::{ACCOUNT}:user/dev" in out, out
        assert "not authorized to perform: ecr:" in out, out
    finally:
        sh(f"docker rmi -f {uri}:v1 {uri}:v2", owner_env, check=False)
        server.stop()
