"""Containers' secrets resolved as the agent is handed the task; a task whose secret cannot
be read stops before it is handed over."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.secrets import SecretUnavailable
from dockyard.services.ecs import Ecs
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from dockyard.services.secretsmanager import SecretsManager
from dockyard.services.ssm import Ssm
from dockyard.store import SqliteStore
from dockyard.wiring.secrets import ServedSecrets
from tests.unit.services.ecs.tasks_harness import (
    ACCOUNT,
    REGION,
    Client,
    make_ecs,
    make_link,
    registration,
    run,
)

PREFIX = "ResourceInitializationError: unable to pull secrets or registry auth: "


class Source:
    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[tuple[str, str, str]] = []

    def resolve(
        self,
        account_id: str,
        region: str,
        value_from: str,
        *,
        role: tuple[str, str] | None = None,
    ) -> str:
        self.asked.append((account_id, region, value_from))
        if value_from not in self.values:
            raise SecretUnavailable("ssm", value_from, f"invalid ssm parameters: {value_from}")
        return self.values[value_from]


@pytest.fixture
def ecs() -> Ecs:
    return make_ecs(clock=ManualClock(start=1_700_000_000.0))


@pytest.fixture
def link(ecs: Ecs) -> EmbeddedLink:
    return make_link(ecs)


@pytest.fixture
def instance(link: EmbeddedLink) -> str:
    return run(link.register(registration()))


def container(**extra: Any) -> dict[str, Any]:
    return {"name": "app", "image": "process:/", "memory": 64, "command": ["true"], **extra}


def test_secrets_become_environment_of_the_delivered_copy_only(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    source = Source({"/db/password": "s3cr3t"})
    ecs.secrets = source
    client = Client(ecs)
    client.taskdef("web", containerDefinitions=[container(
        environment=[{"name": "PLAIN", "value": "p"}],
        secrets=[{"name": "DB_PASSWORD", "valueFrom": "/db/password"}],
    )])  # fmt: skip
    arn = client.run_task("web")["tasks"][0]["taskArn"]
    (assignment,) = run(link.assignments(instance, 0))
    env = assignment.spec.containers[0].environment
    assert env == {"PLAIN": "p", "DB_PASSWORD": "s3cr3t"}
    assert source.asked == [(ACCOUNT, REGION, "/db/password")]
    # Neither the task's record nor DescribeTasks carries the value.
    assert "s3cr3t" not in json.dumps(ecs.tasks.by_arn[arn].to_dict())
    assert "s3cr3t" not in json.dumps(client.describe(arn), default=str)


def test_a_missing_secret_stops_the_task_before_it_is_handed_over(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    ecs.secrets = Source({})
    client = Client(ecs)
    client.taskdef("web", containerDefinitions=[container(
        secrets=[{"name": "X", "valueFrom": "/missing"}],
    )])  # fmt: skip
    arn = client.run_task("web")["tasks"][0]["taskArn"]
    assert run(link.assignments(instance, 0)) == []
    task = client.describe(arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == (
        f"{PREFIX}execution resource retrieval failed: unable to retrieve secrets from ssm: "
        "service call has been retried 1 time(s): invalid ssm parameters: /missing"
    )


def test_an_environment_file_in_s3_stops_the_task(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    client = Client(ecs)
    file_arn = "arn:aws:s3:::bucket/app.env"
    client.taskdef("web", containerDefinitions=[container(
        environmentFiles=[{"value": file_arn, "type": "s3"}],
    )])  # fmt: skip
    arn = client.run_task("web")["tasks"][0]["taskArn"]
    assert run(link.assignments(instance, 0)) == []
    task = client.describe(arn)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ResourceInitializationError: ")
    assert file_arn in task["stoppedReason"]


def test_served_secrets_read_parameter_store_and_secrets_manager() -> None:
    clock = ManualClock(start=1_700_000_000.0)
    ssm, manager = (
        Ssm(SqliteStore(":memory:"), clock),
        SecretsManager(SqliteStore(":memory:"), clock),
    )
    ssm.load()
    manager.load()
    from tests.unit.services.secretsmanager.conftest import make_call as sm_call
    from tests.unit.services.ssm.conftest import make_call as ssm_call

    ssm_call(ssm, ACCOUNT, REGION)("PutParameter", Name="/p", Value="pv", Type="SecureString")
    secret = sm_call(manager, ACCOUNT, REGION)(
        "CreateSecret", Name="s", SecretString=json.dumps({"user": "u", "n": 3})
    )["ARN"]
    source = ServedSecrets(ssm, manager)
    assert source.resolve(ACCOUNT, REGION, "/p") == "pv"
    assert source.resolve(ACCOUNT, REGION, f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/p") == "pv"
    assert source.resolve(ACCOUNT, REGION, secret) == '{"user": "u", "n": 3}'
    assert source.resolve(ACCOUNT, REGION, f"{secret}:user::") == "u"
    assert source.resolve(ACCOUNT, REGION, f"{secret}:n:AWSCURRENT:") == "3"
    with pytest.raises(SecretUnavailable) as err:
        source.resolve(ACCOUNT, REGION, f"{secret}:nope::")
    assert err.value.store == "asm"
    assert "did not contain json key nope" in err.value.message
    missing = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:gone-AbCdEf"
    with pytest.raises(SecretUnavailable) as err:
        source.resolve(ACCOUNT, REGION, missing)
    assert err.value.message == (
        f"failed to fetch secret {missing} from secrets manager: ResourceNotFoundException: "
        "Secrets Manager can't find the specified secret."
    )
    with pytest.raises(SecretUnavailable) as err:
        source.resolve(ACCOUNT, "eu-west-1", "/p")  # another region's Parameter Store
    assert err.value.message == "invalid ssm parameters: /p"


class Permissions:
    """Allows what is listed; records what was asked."""

    def __init__(self, allowed: set[tuple[str, str]]) -> None:
        self.allowed = allowed
        self.asked: list[tuple[str, str, str, str, str]] = []

    def denial(
        self, account_id: str, role_arn: str, session_name: str, action: str, resource: str
    ) -> str | None:
        self.asked.append((account_id, role_arn, session_name, action, resource))
        if (action, resource) in self.allowed:
            return None
        return f"User: {session_name} is not authorized to perform: {action} on {resource}"


def test_served_secrets_are_read_as_the_execution_role() -> None:
    clock = ManualClock(start=1_700_000_000.0)
    ssm, manager = (
        Ssm(SqliteStore(":memory:"), clock),
        SecretsManager(SqliteStore(":memory:"), clock),
    )
    ssm.load()
    manager.load()
    from tests.unit.services.secretsmanager.conftest import make_call as sm_call
    from tests.unit.services.ssm.conftest import make_call as ssm_call

    ssm_call(ssm, ACCOUNT, REGION)("PutParameter", Name="/p", Value="pv", Type="String")
    ssm_call(ssm, ACCOUNT, REGION)("PutParameter", Name="plain", Value="x", Type="String")
    secret = sm_call(manager, ACCOUNT, REGION)("CreateSecret", Name="s", SecretString="sv")["ARN"]
    param = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/p"
    permissions = Permissions({("ssm:GetParameters", param)})
    source = ServedSecrets(ssm, manager, permissions)
    role = (f"arn:aws:iam::{ACCOUNT}:role/exec", "task-1")
    assert source.resolve(ACCOUNT, REGION, "/p", role=role) == "pv"
    assert source.resolve(ACCOUNT, REGION, param, role=role) == "pv"
    with pytest.raises(SecretUnavailable) as err:
        source.resolve(ACCOUNT, REGION, "plain", role=role)
    assert err.value.message == (
        "AccessDeniedException: User: task-1 is not authorized to perform: ssm:GetParameters "
        f"on arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/plain"
    )
    # A secret named by its partial ARN is checked on its full ARN (with the suffix).
    partial = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:s"
    with pytest.raises(SecretUnavailable) as err:
        source.resolve(ACCOUNT, REGION, partial, role=role)
    assert err.value.store == "asm"
    assert permissions.asked[-1] == (
        ACCOUNT, role[0], "task-1", "secretsmanager:GetSecretValue", secret
    )  # fmt: skip
    assert "AccessDeniedException: User: task-1" in err.value.message
    permissions.allowed.add(("secretsmanager:GetSecretValue", secret))
    assert source.resolve(ACCOUNT, REGION, partial, role=role) == "sv"
    # Without a role (no executionRoleArn) nothing is asked.
    before = len(permissions.asked)
    assert source.resolve(ACCOUNT, REGION, "plain") == "x"
    assert len(permissions.asked) == before
