"""The agent protocol over HTTP: `HttpLink` against the server's endpoint, with and without
credentials."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from dockyard.agent.http_link import HttpLink, LinkError
from dockyard.core.agentlink import LogEvent, UnknownInstance
from dockyard.core.agentstats import ContainerStats, StatsLink
from dockyard.core.taskspec import DesiredStatus
from dockyard.services.ecs.instances.agent_http import AgentEndpoint
from tests.unit.services.ecs.tasks_harness import (
    Client,
    make_ecs,
    make_link,
    registration,
    report,
    run,
)

Factory = Callable[..., HttpLink]


def links(credentials: dict[str, str] | None) -> tuple[Client, Factory, AgentEndpoint]:
    ecs = make_ecs()
    endpoint = AgentEndpoint(make_link(ecs, managed_capacity=False), credentials)

    def link(join_token: str | None = None) -> HttpLink:
        transport = httpx.ASGITransport(app=endpoint)
        client = httpx.AsyncClient(transport=transport, base_url="http://dockyard")
        return HttpLink("http://dockyard", join_token=join_token, client=client)

    return Client(ecs), link, endpoint


def test_register_assign_report_and_logs_round_trip() -> None:
    client, make, endpoint = links(None)
    link = make()

    async def scenario() -> None:
        arn = await link.register(registration(az="x"))
        assert link.identity is not None and link.identity[0] == arn  # its own credential
        client.taskdef(containerDefinitions=[{
            "name": "app", "image": "busybox", "memory": 128,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "g", "awslogs-region": "us-east-1"}},
        }])  # fmt: skip
        task_arn = client.run_task()["tasks"][0]["taskArn"]
        assigned = await link.assignments(arn, 0)
        assert [a.spec.task_arn for a in assigned] == [task_arn]
        assert assigned[0].desired_status == DesiredStatus.RUNNING
        await link.heartbeat(arn)
        await link.report(arn, [report(task_arn, "RUNNING")])
        assert client.describe(task_arn)["lastStatus"] == "RUNNING"
        own = arn.split(":")[4]
        await link.put_logs(own, "us-east-1", "g", "s", [LogEvent(1, "hi")], True)
        for account, group in (("111111111111", "g"), (own, "other")):
            with pytest.raises(LinkError) as err:
                await link.put_logs(account, "us-east-1", group, "s", [LogEvent(1, "x")], True)
            assert (err.value.status, err.value.code) == (403, "AccessDeniedException")
        with pytest.raises(LinkError) as err:  # the credential is bound to its instance
            await link.heartbeat(arn.replace(arn.rsplit("/", 1)[1], "f" * 32))
        assert (err.value.status, err.value.code) == (403, "AccessDeniedException")
        # The server forgets everything (a reset): the agent is told to register again.
        endpoint.link.ecs.reset()
        endpoint.identities.reset()
        with pytest.raises(UnknownInstance):
            await link.heartbeat(arn)
        again = await link.register(registration(az="x"))
        assert link.identity is not None and link.identity[0] == again
        await link.heartbeat(again)
        await link.close()

    run(scenario())


def test_with_auth_only_agents_joined_with_a_token_get_in() -> None:
    _, make, endpoint = links({"AKIDAGENT": "s3cret"})
    issued = endpoint.identities.issue_token("000000000000", "us-east-1", "default")
    other = endpoint.identities.issue_token("000000000000", "us-east-1", "elsewhere")

    async def scenario() -> None:
        for token, code in ((None, "MissingAuthenticationToken"),
                            ("dyj.nope.nope", "AccessDeniedException"),
                            (other.text, "AccessDeniedException")):  # fmt: skip
            link = make(token)
            with pytest.raises(LinkError) as err:
                await link.register(registration())
            assert (err.value.status, err.value.code) == (403, code)
            await link.close()
        link = make(issued.text)
        arn = await link.register(registration())
        assert arn.startswith("arn:aws:ecs:")
        await link.heartbeat(arn)
        anonymous = make()
        with pytest.raises(LinkError) as err:
            await anonymous.heartbeat(arn)
        assert (err.value.status, err.value.code) == (403, "MissingAuthenticationToken")
        await anonymous.close()
        assert endpoint.identities.revoke_token("000000000000", issued.token.token_id)
        late = make(issued.text)
        with pytest.raises(LinkError) as err:
            await late.register(registration())
        assert "revoked" in str(err.value)
        await late.close()
        await link.heartbeat(arn)  # a revoked token does not undo the agents that joined
        await link.close()

    run(scenario())


def test_stats_posted_by_the_agent_reach_the_stats_sink() -> None:
    ecs = make_ecs()
    server_link = make_link(ecs, managed_capacity=False)
    received: list[tuple[str, list[ContainerStats]]] = []
    server_link.stats_sink = lambda arn, stats: received.append((arn, stats))
    transport = httpx.ASGITransport(app=AgentEndpoint(server_link))
    link = HttpLink("http://dockyard", client=httpx.AsyncClient(transport=transport))
    assert isinstance(link, StatsLink)  # so the agent starts its stats loop
    sample = ContainerStats("arn:aws:ecs:us-east-1:000000000000:task/default/abc", "web",
                            cpu_units=512.0, memory_mib=64.5, timestamp=1700000000.0)  # fmt: skip

    async def scenario() -> None:
        arn = await link.register(registration())
        await link.report_stats(arn, [sample])
        assert received == [(arn, [sample])]
        with pytest.raises(LinkError) as err:  # its credential is for its own instance only
            await link.report_stats(arn.replace(arn.rsplit("/", 1)[1], "f" * 32), [sample])
        assert (err.value.status, err.value.code) == (403, "AccessDeniedException")
        with pytest.raises(LinkError) as err:
            await link._call("stats", {"containerInstanceArn": arn, "stats": [{"task_arn": 1}]})
        assert (err.value.status, err.value.code) == (400, "InvalidParameterException")
        assert len(received) == 1
        await link.close()

    run(scenario())


def test_an_instance_is_re_registered_only_by_its_own_agent() -> None:
    _, make, endpoint = links({"AKID": "s3cret"})
    token = endpoint.identities.issue_token("123456789012", "us-east-1", "default").text

    async def scenario() -> None:
        first = make(token)
        arn = await first.register(registration())
        second = make(token)  # a host with a valid token, but not that instance's credential
        claim = registration()
        claim.container_instance_arn = arn
        with pytest.raises(LinkError) as err:
            await second.register(claim)
        assert (err.value.status, err.value.code) == (403, "AccessDeniedException")
        first.join_token = None  # its own credential is enough to register again in place
        assert await first.register(claim) == arn
        await first.heartbeat(arn)
        await first.close()
        await second.close()

    run(scenario())
