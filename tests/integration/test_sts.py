"""STS through a real server with an auth file: who is calling, AssumeRole (trust policy
checked), GetSessionToken, temporary credentials accepted until they expire (and across a
restart), and the errors AWS answers for bad or missing session tokens."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.iam_support import (
    ACCOUNT,
    ROOT_KEY,
    ROOT_SECRET,
    client,
    error_code,
    new_user,
    policy,
    start_auth_server,
)
from tests.support.server import DockyardProcess, client_env
from tests.support.waiting import wait_for

TRUST_ACCOUNT = policy(
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
     "Action": "sts:AssumeRole"}
)  # fmt: skip
READ_SSM = policy({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    srv = start_auth_server(tmp_path_factory, "sts")
    yield srv
    srv.stop()


def cli(endpoint: str, *args: str, env: dict[str, str]) -> Any:
    cmd = [sys.executable, "-m", "awscli", "--endpoint-url", endpoint, "--output", "json", *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def cli_env(endpoint: str, key: str, secret: str, token: str | None = None) -> dict[str, str]:
    env = client_env(endpoint)
    env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    if token:
        env["AWS_SESSION_TOKEN"] = token
    return env


def role(server: DockyardProcess, name: str, trust: str = TRUST_ACCOUNT) -> str:
    iam = client("iam", server.endpoint)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=READ_SSM)
    return str(arn)


def test_cli_get_caller_identity_answers_the_root_key(server: DockyardProcess) -> None:
    out = cli(server.endpoint, "sts", "get-caller-identity",
              env=cli_env(server.endpoint, ROOT_KEY, ROOT_SECRET))  # fmt: skip
    assert out == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:root"}


def test_cli_get_caller_identity_answers_an_assumed_role(server: DockyardProcess) -> None:
    arn = role(server, "cli-role")
    env = cli_env(server.endpoint, ROOT_KEY, ROOT_SECRET)
    assumed = cli(server.endpoint, "sts", "assume-role", "--role-arn", arn,
                  "--role-session-name", "ci-run", env=env)  # fmt: skip
    creds = assumed["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert (
        assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/cli-role/ci-run"
    )
    who = cli(server.endpoint, "sts", "get-caller-identity",
              env=cli_env(server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                          creds["SessionToken"]))  # fmt: skip
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/cli-role/ci-run"
    assert who["Account"] == ACCOUNT
    role_id = client("iam", server.endpoint).get_role(RoleName="cli-role")["Role"]["RoleId"]
    assert who["UserId"] == f"{role_id}:ci-run"


def test_assumed_role_is_authorized_with_the_roles_policies(server: DockyardProcess) -> None:
    arn = role(server, "reader")
    creds = client("sts", server.endpoint).assume_role(RoleArn=arn, RoleSessionName="s1")[
        "Credentials"
    ]
    ssm = client("ssm", server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                 creds["SessionToken"])  # fmt: skip
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/nothing/here")
    assert error_code(exc.value) == "ParameterNotFound"  # allowed: the role may read
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/x", Value="1", Type="String")
    assert error_code(exc.value) == "AccessDeniedException"
    assert f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1" in str(exc.value)


def test_trust_policy_that_does_not_name_the_caller_refuses(server: DockyardProcess) -> None:
    trust = policy({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole"})  # fmt: skip
    arn = role(server, "tasks-only", trust)
    with pytest.raises(ClientError) as exc:
        client("sts", server.endpoint).assume_role(RoleArn=arn, RoleSessionName="s1")
    assert error_code(exc.value) == "AccessDenied"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "sts:AssumeRole" in str(exc.value)


def test_user_needs_sts_assume_role_when_trust_names_the_account(server: DockyardProcess) -> None:
    arn = role(server, "delegated")
    iam = client("iam", server.endpoint)
    plain = new_user(iam, "no-assume", READ_SSM)
    allowed = new_user(iam, "may-assume", policy(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}))  # fmt: skip
    with pytest.raises(ClientError) as exc:
        client("sts", server.endpoint, *plain).assume_role(RoleArn=arn, RoleSessionName="s1")
    assert error_code(exc.value) == "AccessDenied"
    out = client("sts", server.endpoint, *allowed).assume_role(RoleArn=arn, RoleSessionName="s1")
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/delegated/s1")


def test_trust_policy_naming_the_user_needs_no_identity_policy(server: DockyardProcess) -> None:
    iam = client("iam", server.endpoint)
    key = new_user(iam, "named-user")
    trust = policy({"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/named-user"}})  # fmt: skip
    arn = role(server, "names-user", trust)
    out = client("sts", server.endpoint, *key).assume_role(RoleArn=arn, RoleSessionName="n1")
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_get_session_token_keeps_the_users_identity(server: DockyardProcess) -> None:
    iam = client("iam", server.endpoint)
    key = new_user(iam, "session-user", READ_SSM)
    creds = client("sts", server.endpoint, *key).get_session_token(DurationSeconds=900)[
        "Credentials"
    ]
    sts = client("sts", server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                 creds["SessionToken"])  # fmt: skip
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/session-user"
    with pytest.raises(ClientError) as exc:
        sts.get_session_token()
    assert error_code(exc.value) == "AccessDenied"


def test_missing_or_forged_session_token_is_refused(server: DockyardProcess) -> None:
    arn = role(server, "tokens")
    creds = client("sts", server.endpoint).assume_role(RoleArn=arn, RoleSessionName="s1")[
        "Credentials"
    ]
    no_token = client("sts", server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        no_token.get_caller_identity()
    assert error_code(exc.value) == "InvalidClientTokenId"
    forged = creds["SessionToken"][:-4] + (
        "AAAA" if creds["SessionToken"][-4:] != "AAAA" else "BBBB"
    )
    bad = client("ssm", server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"], forged)
    with pytest.raises(ClientError) as exc:
        bad.get_parameter(Name="/x")
    assert error_code(exc.value) == "UnrecognizedClientException"


def test_duration_beyond_the_roles_maximum_is_refused(server: DockyardProcess) -> None:
    arn = role(server, "short")
    with pytest.raises(ClientError) as exc:
        client("sts", server.endpoint).assume_role(
            RoleArn=arn, RoleSessionName="s1", DurationSeconds=7200
        )
    assert error_code(exc.value) == "ValidationError"
    assert "MaxSessionDuration" in str(exc.value)


def test_web_identity_is_refused_clearly(server: DockyardProcess) -> None:
    with pytest.raises(ClientError) as exc:
        client("sts", server.endpoint).assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/x", RoleSessionName="s1", WebIdentityToken="t" * 8
        )
    assert error_code(exc.value) == "UnsupportedOperation"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_without_auth_file_caller_is_the_default_root(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    srv = DockyardProcess(tmp_path_factory.mktemp("open") / "data", "--no-local-agent").start()
    try:
        who = client("sts", srv.endpoint, "test", "test").get_caller_identity()
        assert who["Arn"] == "arn:aws:iam::000000000000:root"
    finally:
        srv.stop()


def test_temporary_credentials_survive_a_restart_and_expire(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    srv = start_auth_server(tmp_path_factory, "sts-restart")
    try:
        arn = role(srv, "durable")
        creds = client("sts", srv.endpoint).assume_role(
            RoleArn=arn, RoleSessionName="s1", DurationSeconds=900
        )["Credentials"]
        srv.stop()
        srv.start()
        sts = client("sts", srv.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                     creds["SessionToken"])  # fmt: skip
        assert sts.get_caller_identity()["Arn"].endswith(":assumed-role/durable/s1")
    finally:
        srv.stop()


def test_expired_credentials_answer_expired_token(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("sts-expiry")
    auth = base / "auth"
    auth.write_text(f"{ROOT_KEY} {ROOT_SECRET} {ACCOUNT}\n")
    auth.chmod(0o600)
    # Server time runs 200 times faster: a 15-minute credential lasts 4.5 s of the test's.
    srv = DockyardProcess(
        base / "data", "--auth-file", str(auth), "--no-local-agent", "--time-scale", "200"
    ).start()
    try:
        arn = role(srv, "brief")
        creds = client("sts", srv.endpoint).assume_role(
            RoleArn=arn, RoleSessionName="s1", DurationSeconds=900
        )["Credentials"]
        sts = client("sts", srv.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                     creds["SessionToken"])  # fmt: skip
        ssm = client("ssm", srv.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                     creds["SessionToken"])  # fmt: skip

        def expired() -> bool:
            try:
                sts.get_caller_identity()
            except ClientError as exc:
                return error_code(exc) == "ExpiredToken"
            return False

        wait_for(expired, timeout=60, what="the credentials to expire")
        with pytest.raises(ClientError) as exc:
            ssm.get_parameter(Name="/x")
        assert error_code(exc.value) == "ExpiredTokenException"
    finally:
        srv.stop()


def test_trust_policy_conditions_see_the_external_id(server: DockyardProcess) -> None:
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "partner-42"}},
        }
    )
    arn = role(server, "partner", trust)
    sts = client("sts", server.endpoint)
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=arn, RoleSessionName="p1", ExternalId="wrong-id")
    assert error_code(exc.value) == "AccessDenied"
    out = sts.assume_role(RoleArn=arn, RoleSessionName="p1", ExternalId="partner-42")
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/partner/p1")


def test_session_policy_narrows_the_roles_permissions(server: DockyardProcess) -> None:
    iam = client("iam", server.endpoint)
    arn = role(server, "wide")
    iam.put_role_policy(RoleName="wide", PolicyName="all-ssm", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}))  # fmt: skip
    narrow = policy({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"})
    creds = client("sts", server.endpoint).assume_role(
        RoleArn=arn, RoleSessionName="narrow", Policy=narrow
    )["Credentials"]
    ssm = client("ssm", server.endpoint, creds["AccessKeyId"], creds["SecretAccessKey"],
                 creds["SessionToken"])  # fmt: skip
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name="/none")
    assert error_code(exc.value) == "ParameterNotFound"
    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name="/narrow", Value="1", Type="String")
    assert error_code(exc.value) == "AccessDeniedException"
    assert "because no session policy allows the ssm:PutParameter action" in str(exc.value)
