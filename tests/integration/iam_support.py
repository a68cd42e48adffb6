"""A server started with an auth file (enforcing IAM policies), and clients signed with
a root key, an IAM user's key, or temporary credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.server import DockyardProcess

ACCOUNT = "111122223333"
ROOT_KEY = "AKIAROOTTESTKEY00001"
ROOT_SECRET = "root-secret-for-tests"
REGION = "us-east-1"
DENIED = ("AccessDenied", "AccessDeniedException")


def start_auth_server(tmp: pytest.TempPathFactory, name: str) -> DockyardProcess:
    base = tmp.mktemp(name)
    auth = base / "auth"
    auth.write_text(f"{ROOT_KEY} {ROOT_SECRET} {ACCOUNT}\n")
    auth.chmod(0o600)
    server = DockyardProcess(base / "data", "--auth-file", str(auth), "--no-local-agent")
    return server.start()


def client(
    service: str,
    endpoint: str,
    key: str = ROOT_KEY,
    secret: str = ROOT_SECRET,
    token: str | None = None,
    region: str = REGION,
) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def error_code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def outcome(call: Any, **params: Any) -> str:
    """ "allowed" when the call got past authorization (whatever it answered then),
    else "denied"."""
    try:
        call(**params)
    except ClientError as exc:
        if error_code(exc) in DENIED:
            return "denied"
        # Past authorization, the operation may still refuse (a name that does not exist):
        # never for its input's shape, which the case would then not test.
        assert "Validation" not in error_code(exc) and "InvalidParameter" not in error_code(exc), (
            exc
        )
    return "allowed"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def new_user(
    iam: Any, name: str, inline: str | None = None, tags: dict[str, str] | None = None
) -> tuple[str, str]:
    """A user (with an inline policy) and its new access key (id, secret)."""
    kwargs: dict[str, Any] = {"UserName": name}
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    iam.create_user(**kwargs)
    if inline is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=inline)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def write_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
