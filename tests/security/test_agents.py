"""Agents have their own identity: a server with `--auth-file` and `--tls-cert`, two accounts,
one real `dockyard agent` per account joined with a join token over HTTPS, and a fake agent
that tries to act for another instance or account.

What a user sees: the fake agent is refused (403) whatever it tries; a task naming another
account's secret stops with ResourceInitializationError; tokens survive a restart, expire and
can be revoked; an agent given the wrong CA refuses to connect.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.support.server import DockyardProcess
from tests.support.tls import Pki, make_pki
from tests.support.waiting import wait_for

CLUSTER = "sec"
ACCOUNT_A, SECRET_A = "111111111111", "secret-of-a"
ACCOUNT_B, SECRET_B = "222222222222", "secret-of-b"
KEYS = {ACCOUNT_A: SECRET_A, ACCOUNT_B: SECRET_B}
AGENT_PATH = "/_dockyard/agent/v1/"


@dataclass
class Secured:
    server: DockyardProcess
    pki: Pki
    root: Path
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # account -> the token its agent used

    def client(self, service: str, account: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.server.endpoint,
            region_name="us-east-1",
            aws_access_key_id=account,
            aws_secret_access_key=KEYS[account],
            verify=str(self.pki.ca),
            config=Config(retries={"max_attempts": 1}),
        )

    def instance(self, account: str) -> dict[str, Any]:
        ecs = self.client("ecs", account)
        arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
        if not arns:
            return {}
        found: list[dict[str, Any]] = ecs.describe_container_instances(
            cluster=CLUSTER, containerInstances=arns
        )["containerInstances"]
        connected = [c for c in found if c["agentConnected"]]
        return connected[0] if len(connected) == 1 else {}


def dockyard(
    *args: str, account: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCKYARD_"))}
    if account is not None:
        env.update(AWS_ACCESS_KEY_ID=account, AWS_SECRET_ACCESS_KEY=KEYS[account])
    return subprocess.run(
        [sys.executable, "-m", "dockyard", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip


def join_token(s: Secured, account: str, *extra: str) -> str:
    out = dockyard(
        "join-token", "--server", s.server.endpoint, "--cluster", CLUSTER,
        "--ca", str(s.pki.ca), *extra, account=account,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert token.startswith("dyj."), out.stdout
    return token


def start_agent(s: Secured, account: str, *, token_file: bool) -> None:
    token = s.tokens[account]
    data = s.root / f"agent-{account}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DOCKYARD_"))}
    args = [
        sys.executable, "-m", "dockyard", "agent", "--server", s.server.endpoint,
        "--cluster", CLUSTER, "--data-dir", str(data), "--runtime", "process",
        "--ca", str(s.pki.ca),
    ]  # fmt: skip
    if token_file:
        path = s.root / f"token-{account}"
        path.write_text(token + "\n")
        args += ["--token-file", str(path)]
    else:
        env["DOCKYARD_JOIN_TOKEN"] = token
    log = open(s.root / f"agent-{account}.log", "ab")  # noqa: SIM115 - owned by the child
    s.agents[account] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    root = tmp_path_factory.mktemp("agents")
    pki = make_pki(root / "pki", ["127.0.0.1", "localhost"])
    auth = root / "auth"
    auth.write_text("".join(f"{key} {secret}\n" for key, secret in KEYS.items()))
    server = DockyardProcess(
        root / "server",
        "--runtime", "process", "--no-local-agent", "--auth-file", str(auth),
        "--tls-cert", str(pki.cert), "--tls-key", str(pki.key),
        ca=pki.ca,
    )  # fmt: skip
    s = Secured(server, pki, root)
    server.start()
    try:
        for account, by_file in ((ACCOUNT_A, True), (ACCOUNT_B, False)):
            s.client("ecs", account).create_cluster(clusterName=CLUSTER)
            s.tokens[account] = join_token(s, account)
            start_agent(s, account, token_file=by_file)
        for account in KEYS:
            wait_for(lambda a=account: s.instance(a), 30, f"the agent of {account} connected")
        yield s
    finally:
        for account in KEYS:
            ecs = s.client("ecs", account)
            for arn in ecs.list_tasks(cluster=CLUSTER)["taskArns"]:
                ecs.stop_task(cluster=CLUSTER, task=arn)
        for account in KEYS:
            ecs = s.client("ecs", account)
            wait_for(lambda e=ecs: not e.list_tasks(cluster=CLUSTER)["taskArns"], 30, "no task")
        for agent in s.agents.values():
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=30)
        server.stop()


def agent_call(
    s: Secured, name: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    with httpx.Client(verify=str(s.pki.ca), timeout=30) as http:
        return http.post(f"{s.server.endpoint}{AGENT_PATH}{name}", json=body, headers=headers or {})


def refused(response: httpx.Response, code: str) -> str:
    assert response.status_code == 403, response.text
    doc = response.json()
    assert doc["__type"] == code, doc
    return str(doc["message"])


def sleeper(s: Secured, account: str, family: str, group: str) -> str:
    ecs = s.client("ecs", account)
    ecs.register_task_definition(
        family=family,
        networkMode="host",
        containerDefinitions=[{
            "name": "app", "image": "busybox", "memory": 32,
            "command": ["sleep", "10761"],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": group, "awslogs-create-group": "true",
                "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}},
        }],
    )  # fmt: skip
    out = ecs.run_task(cluster=CLUSTER, taskDefinition=family, launchType="EC2")
    assert out["failures"] == [], out["failures"]
    arn = str(out["tasks"][0]["taskArn"])
    wait_for(
        lambda: (
            ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]["lastStatus"] == "RUNNING"
        ),
        60,
        f"task {arn} RUNNING",
    )
    return arn


def test_a_fake_agent_cannot_read_report_reregister_or_log_for_another_instance(
    secured: Secured,
) -> None:
    s = secured
    victim = s.instance(ACCOUNT_A)["containerInstanceArn"]
    task = sleeper(s, ACCOUNT_A, "victim", "/sec/victim")

    # An agent of account B, joined the proper way: it has a credential, for its own instance.
    joined = agent_call(s, "register", {
        "cluster": CLUSTER, "cpu": 1024, "memory": 512, "hostname": "fake",
        "joinToken": join_token(s, ACCOUNT_B),
    })  # fmt: skip
    assert joined.status_code == 200, joined.text
    fake = joined.json()["containerInstanceArn"]
    assert f":{ACCOUNT_B}:container-instance/{CLUSTER}/" in fake
    own = {"Authorization": f"Bearer {joined.json()['agentCredential']}",
           "X-Dockyard-Instance": fake}  # fmt: skip
    assert agent_call(s, "heartbeat", {"containerInstanceArn": fake}, own).status_code == 200

    # With its credential: nothing about the victim's instance.
    for name, body in (
        ("assignments", {"containerInstanceArn": victim, "wait": 0}),
        ("heartbeat", {"containerInstanceArn": victim}),
        ("report", {"containerInstanceArn": victim,
                    "statuses": [{"task_arn": task, "status": "STOPPED"}]}),
        ("stats", {"containerInstanceArn": victim, "stats": []}),
    ):  # fmt: skip
        message = refused(agent_call(s, name, body, own), "AccessDeniedException")
        assert victim in message
    # Nor logs in the victim's account, nor in its own account outside its tasks' groups.
    for account in (ACCOUNT_A, ACCOUNT_B):
        response = agent_call(s, "logs", {
            "accountId": account, "region": "us-east-1", "group": "/sec/victim",
            "stream": "forged", "events": [{"timestamp_ms": 1, "message": "forged"}],
            "createGroup": True,
        }, own)  # fmt: skip
        refused(response, "AccessDeniedException")

    # Without a credential, or with an account's API key (SigV4): nothing either.
    body = json.dumps({"containerInstanceArn": victim, "wait": 0}).encode()
    refused(agent_call(s, "assignments", json.loads(body)), "MissingAuthenticationToken")
    url = f"{s.server.endpoint}{AGENT_PATH}assignments"
    signed = AWSRequest(method="POST", url=url, data=body,
                        headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(Credentials(ACCOUNT_A, SECRET_A), "ecs", "us-east-1").add_auth(signed)
    with httpx.Client(verify=str(s.pki.ca)) as http:
        sigv4 = http.post(url, content=body, headers=dict(signed.headers.items()))
    refused(sigv4, "MissingAuthenticationToken")

    # Re-registering the victim's instance needs the victim's credential, not just a token.
    for token, headers in ((join_token(s, ACCOUNT_A), {}), (join_token(s, ACCOUNT_B), own)):
        response = agent_call(s, "register", {
            "cluster": CLUSTER, "cpu": 1024, "memory": 512, "joinToken": token,
            "containerInstanceArn": victim,
        }, headers)  # fmt: skip
        assert "credential" in refused(response, "AccessDeniedException")

    # The real agent did not notice: its task runs, its instance stays connected.
    ecs = s.client("ecs", ACCOUNT_A)
    assert ecs.describe_tasks(cluster=CLUSTER, tasks=[task])["tasks"][0]["lastStatus"] == "RUNNING"
    assert s.instance(ACCOUNT_A)["containerInstanceArn"] == victim
    logs = s.client("logs", ACCOUNT_A)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):  # nothing was written
        logs.describe_log_streams(logGroupName="/sec/victim")
    ecs.stop_task(cluster=CLUSTER, task=task)

    # Its credential sits in a 0600 file; neither it nor the token shows on a command line.
    credential = s.root / f"agent-{ACCOUNT_A}" / "agent" / "credential.json"
    assert credential.stat().st_mode & 0o777 == 0o600
    secret = json.loads(credential.read_text())["credential"]
    for agent in s.agents.values():
        cmdline = Path(f"/proc/{agent.pid}/cmdline").read_bytes()
        assert secret.encode() not in cmdline
        assert all(t.encode() not in cmdline for t in s.tokens.values())
    # The server keeps only digests.
    for path in (s.root / "server").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in data, path
            assert s.tokens[ACCOUNT_A].split(".")[2].encode() not in data, path


def test_a_task_naming_another_accounts_secret_stops_with_resource_initialization_error(
    secured: Secured,
) -> None:
    s = secured
    tag = uuid.uuid4().hex[:6]
    theirs = s.client("secretsmanager", ACCOUNT_A).create_secret(
        Name=f"sec/{tag}", SecretString="theirs"
    )["ARN"]
    ssm_a = s.client("ssm", ACCOUNT_A)
    ssm_a.put_parameter(Name=f"/sec/{tag}", Value="theirs", Type="SecureString")
    their_param = ssm_a.get_parameter(Name=f"/sec/{tag}")["Parameter"]["ARN"]
    mine = s.client("secretsmanager", ACCOUNT_B).create_secret(
        Name=f"sec/{tag}", SecretString="mine"
    )["ARN"]
    ecs = s.client("ecs", ACCOUNT_B)
    group = f"/sec/secrets-{tag}"

    def run(family: str, value_from: str) -> dict[str, Any]:
        ecs.register_task_definition(
            family=family,
            networkMode="host",
            containerDefinitions=[{
                "name": "app", "image": "busybox", "memory": 32,
                "entryPoint": ["sh", "-c"], "command": ['echo "value=$VALUE"'],
                "secrets": [{"name": "VALUE", "valueFrom": value_from}],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": group, "awslogs-create-group": "true",
                    "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}},
            }],
        )  # fmt: skip
        out = ecs.run_task(cluster=CLUSTER, taskDefinition=family, launchType="EC2")
        arn = out["tasks"][0]["taskArn"]

        def stopped() -> dict[str, Any]:
            t: dict[str, Any] = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0]
            return t if t["lastStatus"] == "STOPPED" else {}

        return wait_for(stopped, 60, f"task {arn} STOPPED")

    for family, value_from in (("cross-asm", theirs), ("cross-ssm", their_param)):
        task = run(family, value_from)
        assert task["stopCode"] == "TaskFailedToStart"
        assert task["stoppedReason"].startswith(
            "ResourceInitializationError: unable to pull secrets or registry auth: "
        ), task["stoppedReason"]
        assert "AccessDeniedException" in task["stoppedReason"]
        assert ACCOUNT_A in task["stoppedReason"]
        assert "exitCode" not in task["containers"][0]

    task = run("own-asm", mine)  # the account's own secret resolves
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 0
    logs = s.client("logs", ACCOUNT_B)
    stream = f"app/app/{task['taskArn'].rsplit('/', 1)[1]}"

    def printed() -> list[str]:
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events]

    assert wait_for(printed, 30, "the container's output") == ["value=mine"]


def test_an_agent_given_the_wrong_ca_refuses_to_connect(secured: Secured) -> None:
    s = secured
    other = make_pki(s.root / "other-pki", ["127.0.0.1"], name="other")
    token = s.root / "token-wrong-ca"
    token.write_text(join_token(s, ACCOUNT_A))
    out = dockyard(
        "agent", "--server", s.server.endpoint, "--cluster", CLUSTER,
        "--data-dir", str(s.root / "agent-wrong-ca"), "--runtime", "process",
        "--ca", str(other.ca), "--token-file", str(token),
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "does not verify against the given CA" in out.stderr, out.stderr
    assert "refusing to connect" in out.stderr
    assert not (s.root / "agent-wrong-ca" / "agent" / "credential.json").exists()
    listed = dockyard(
        "join-token", "--server", s.server.endpoint, "--list", "--ca", str(other.ca),
        account=ACCOUNT_A,
    )  # fmt: skip
    assert listed.returncode == 1 and "does not verify" in listed.stderr


def test_join_tokens_survive_a_restart_expire_and_can_be_revoked(secured: Secured) -> None:
    s = secured
    short = join_token(s, ACCOUNT_A, "--ttl", "1")
    kept = join_token(s, ACCOUNT_A)
    kept_id = kept.split(".")[1]
    victim = s.instance(ACCOUNT_A)["containerInstanceArn"]

    # A restart: the agents keep their identity, the tokens are still there.
    s.server.stop()
    s.server.start()
    wait_for(lambda: s.instance(ACCOUNT_A).get("containerInstanceArn") == victim, 30,
             "the agent of A back on its instance")  # fmt: skip
    listed = dockyard("join-token", "--server", s.server.endpoint, "--list",
                      "--ca", str(s.pki.ca), account=ACCOUNT_A)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert kept_id in listed.stdout
    assert kept_id not in dockyard("join-token", "--server", s.server.endpoint, "--list",
                                   "--ca", str(s.pki.ca), account=ACCOUNT_B).stdout  # fmt: skip

    def register(token: str) -> httpx.Response:
        return agent_call(s, "register", {
            "cluster": CLUSTER, "cpu": 1024, "memory": 512, "joinToken": token})  # fmt: skip

    time.sleep(1.5)
    assert "expired" in refused(register(short), "AccessDeniedException")
    revoked = dockyard("join-token", "--server", s.server.endpoint, "--revoke", kept_id,
                       "--ca", str(s.pki.ca), account=ACCOUNT_A)  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in refused(register(kept), "AccessDeniedException")
    # Another account cannot revoke A's tokens.
    other = join_token(s, ACCOUNT_A)
    denied = dockyard("join-token", "--server", s.server.endpoint, "--revoke",
                      other.split(".")[1], "--ca", str(s.pki.ca), account=ACCOUNT_B)  # fmt: skip
    assert denied.returncode == 1 and "ResourceNotFoundException" in denied.stderr
