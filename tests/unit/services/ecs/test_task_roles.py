"""A task role's credentials, as ECS issues them to the agent the task runs on; a role that
cannot be assumed stops the task before it is handed over."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dockyard.agent.http_link import HttpLink, LinkError
from dockyard.core.clock import ManualClock
from dockyard.core.rolecredentials import ECS_TASKS_PRINCIPAL, RoleUnavailable, TemporaryCredentials
from dockyard.services.ecs import Ecs
from dockyard.services.ecs.instances.agent_http import AgentEndpoint
from dockyard.services.ecs.instances.agent_link import EmbeddedLink
from dockyard.services.ecs.tasks.roles import NoTaskRole, RoleNotAssumable
from tests.unit.services.ecs.tasks_harness import (
    ACCOUNT,
    Client,
    make_ecs,
    make_link,
    registration,
    run,
)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"


class Issuer:
    """Stands in for STS: issues for the roles it knows, refuses the others."""

    def __init__(self, roles: set[str]) -> None:
        self.roles = roles
        self.asked: list[tuple[str, str, str, str]] = []

    def issue(
        self, account_id: str, role_arn: str, session_name: str, *, service: str = ""
    ) -> TemporaryCredentials:
        self.asked.append((account_id, role_arn, session_name, service))
        if role_arn not in self.roles:
            raise RoleUnavailable(f"no role {role_arn}")
        return TemporaryCredentials("ASIAEXAMPLE", "secret", "token", 1_700_003_600.0, role_arn)


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


def unable(role: str) -> str:
    return (
        f"ECS was unable to assume the role '{role}' that was provided for this task. Please "
        "verify that the role being passed has the proper trust relationship and permissions "
        "and that your IAM user has permissions to pass this role."
    )


def test_the_agent_of_the_task_gets_its_role_credentials(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    issuer = Issuer({ROLE})
    ecs.role_credentials = issuer
    client = Client(ecs)
    client.taskdef("web", taskRoleArn=ROLE, containerDefinitions=[container()])
    arn = client.run_task("web")["tasks"][0]["taskArn"]
    (assignment,) = run(link.assignments(instance, 0))
    assert assignment.spec.task_role_arn == ROLE
    found = run(link.task_credentials(instance, arn))
    assert found.access_key_id == "ASIAEXAMPLE" and found.role_arn == ROLE
    task_id = arn.rsplit("/", 1)[-1]
    # The session is named after the task, assumed by the ecs-tasks service principal.
    assert issuer.asked[-1] == (ACCOUNT, ROLE, task_id, ECS_TASKS_PRINCIPAL)


def test_an_overridden_task_role_is_the_one_assumed(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/other"
    ecs.role_credentials = Issuer({ROLE, other})
    client = Client(ecs)
    client.taskdef("web", taskRoleArn=ROLE, containerDefinitions=[container()])
    arn = client.run_task("web", overrides={"taskRoleArn": other})["tasks"][0]["taskArn"]
    run(link.assignments(instance, 0))
    assert run(link.task_credentials(instance, arn)).role_arn == other


def test_another_instance_or_a_task_without_role_gets_nothing(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    ecs.role_credentials = Issuer({ROLE})
    other = run(link.register(registration()))
    client = Client(ecs)
    client.taskdef("web", taskRoleArn=ROLE, containerDefinitions=[container()])
    client.taskdef("plain", containerDefinitions=[container()])
    with_role = client.run_task("web")["tasks"][0]
    plain = client.run_task("plain")["tasks"][0]
    host_of = {with_role["taskArn"]: with_role["containerInstanceArn"]}
    elsewhere = other if host_of[with_role["taskArn"]] == instance else instance
    with pytest.raises(NoTaskRole):
        run(link.task_credentials(elsewhere, with_role["taskArn"]))
    with pytest.raises(NoTaskRole):
        run(link.task_credentials(plain["containerInstanceArn"], plain["taskArn"]))


def test_a_role_that_cannot_be_assumed_stops_the_task_before_it_starts(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    missing = f"arn:aws:iam::{ACCOUNT}:role/missing"
    ecs.role_credentials = Issuer({ROLE})
    client = Client(ecs)
    client.taskdef("web", taskRoleArn=missing, containerDefinitions=[container()])
    arn = client.run_task("web")["tasks"][0]["taskArn"]
    assert run(link.assignments(instance, 0)) == []
    task = client.describe(arn)
    assert task["lastStatus"] == "STOPPED"
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == unable(missing)


def test_without_an_issuer_a_task_role_cannot_be_assumed(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    client = Client(ecs)
    client.taskdef("web", taskRoleArn=ROLE, containerDefinitions=[container()])
    arn = client.run_task("web")["tasks"][0]["taskArn"]
    assert run(link.assignments(instance, 0)) == []
    assert client.describe(arn)["stoppedReason"] == unable(ROLE)


def test_a_role_lost_while_the_task_runs_is_refused_at_the_next_fetch(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    issuer = Issuer({ROLE})
    ecs.role_credentials = issuer
    client = Client(ecs)
    client.taskdef("web", taskRoleArn=ROLE, containerDefinitions=[container()])
    arn = client.run_task("web")["tasks"][0]["taskArn"]
    run(link.assignments(instance, 0))
    issuer.roles.clear()
    with pytest.raises(RoleNotAssumable, match="unable to assume"):
        run(link.task_credentials(instance, arn))
    # Already handed over: the task is not stopped for it (the agent keeps what it has).
    (assignment,) = run(link.assignments(instance, 0))
    assert assignment.spec.task_arn == arn


def test_over_http_only_the_agent_of_the_tasks_instance_gets_its_credentials() -> None:
    ecs = make_ecs()
    ecs.role_credentials = Issuer({ROLE})
    endpoint = AgentEndpoint(make_link(ecs, managed_capacity=False))
    client = Client(ecs)

    def agent() -> HttpLink:
        transport = httpx.ASGITransport(app=endpoint)
        http = httpx.AsyncClient(transport=transport, base_url="http://dockyard")
        return HttpLink("http://dockyard", client=http)

    async def scenario() -> None:
        mine, other = agent(), agent()
        arn = await mine.register(registration())
        other_arn = await other.register(registration())
        client.taskdef("web", taskRoleArn=ROLE, containerDefinitions=[container()])
        placed = client.run_task("web")
        task = placed["tasks"][0]
        host = task["containerInstanceArn"]
        owner, stranger = (mine, other) if host == arn else (other, mine)
        stranger_arn = other_arn if host == arn else arn
        found = await owner.task_credentials(host, task["taskArn"])
        assert found.access_key_id == "ASIAEXAMPLE" and found.role_arn == ROLE
        # Another agent can neither ask as the task's instance nor as itself.
        with pytest.raises(LinkError) as err:
            await stranger.task_credentials(host, task["taskArn"])
        assert (err.value.status, err.value.code) == (403, "AccessDeniedException")
        with pytest.raises(LinkError) as err:
            await stranger.task_credentials(stranger_arn, task["taskArn"])
        assert err.value.status == 400 and err.value.code == "ClientException"
        await mine.close()
        await other.close()

    run(scenario())


def test_an_execution_role_the_issuer_cannot_read_stops_the_task_and_nothing_else(
    ecs: Ecs, link: EmbeddedLink, instance: str
) -> None:
    class Broken(Issuer):
        def issue(
            self, account_id: str, role_arn: str, session_name: str, *, service: str = ""
        ) -> TemporaryCredentials:
            if role_arn == "not-an-arn":
                raise ValueError("not an ARN")
            return super().issue(account_id, role_arn, session_name, service=service)

    ecs.role_credentials = Broken({ROLE})
    client = Client(ecs)
    client.taskdef("bad", executionRoleArn="not-an-arn", containerDefinitions=[container()])
    client.taskdef("good", taskRoleArn=ROLE, containerDefinitions=[container()])
    bad = client.run_task("bad")["tasks"][0]["taskArn"]
    good = client.run_task("good")["tasks"][0]["taskArn"]
    (assignment,) = run(link.assignments(instance, 0))
    assert assignment.spec.task_arn == good  # the other task is still handed over
    assert client.describe(bad)["stoppedReason"] == unable("not-an-arn")
