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
from dockyard.services.ecs.agent_http import AgentEndpoint
from tests.unit.services.ecs.tasks_harness import (
    Client,
    make_ecs,
    make_link,
    registration,
    report,
    run,
)

Factory = Callable[[tuple[str, str] | None], HttpLink]


def links(credentials: dict[str, str] | None) -> tuple[Client, Factory]:
    ecs = make_ecs()
    endpoint = AgentEndpoint(make_link(ecs, managed_capacity=False), credentials)

    def link(creds: tuple[str, str] | None) -> HttpLink:
        transport = httpx.ASGITransport(app=endpoint)
        client = httpx.AsyncClient(transport=transport, base_url="http://dockyard")
        return HttpLink("http://dockyard", creds, client=client)

    return Client(ecs), link


def test_register_assign_report_and_logs_round_trip() -> None:
    client, make = links(None)
    link = make(None)

    async def scenario() -> None:
        arn = await link.register(registration(az="x"))
        client.taskdef()
        task_arn = client.run_task()["tasks"][0]["taskArn"]
        assigned = await link.assignments(arn, 0)
        assert [a.spec.task_arn for a in assigned] == [task_arn]
        assert assigned[0].desired_status == DesiredStatus.RUNNING
        await link.heartbeat(arn)
        await link.report(arn, [report(task_arn, "RUNNING")])
        assert client.describe(task_arn)["lastStatus"] == "RUNNING"
        await link.put_logs("000000000000", "us-east-1", "g", "s", [LogEvent(1, "hi")], True)
        with pytest.raises(UnknownInstance):
            await link.heartbeat(arn.replace(arn.rsplit("/", 1)[1], "f" * 32))
        await link.close()

    run(scenario())


def test_with_credentials_only_signed_agents_get_in() -> None:
    _, make = links({"AKIDAGENT": "s3cret"})

    async def scenario() -> None:
        for creds, code in ((None, "MissingAuthenticationToken"),
                            (("AKIDAGENT", "wrong"), "InvalidSignatureException"),
                            (("OTHER", "s3cret"), "UnrecognizedClientException")):  # fmt: skip
            link = make(creds)
            with pytest.raises(LinkError) as err:
                await link.register(registration())
            assert (err.value.status, err.value.code) == (403, code)
            await link.close()
        link = make(("AKIDAGENT", "s3cret"))
        assert (await link.register(registration())).startswith("arn:aws:ecs:")
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
        with pytest.raises(UnknownInstance):
            await link.report_stats(arn.replace(arn.rsplit("/", 1)[1], "f" * 32), [sample])
        with pytest.raises(LinkError) as err:
            await link._call("stats", {"containerInstanceArn": arn, "stats": [{"task_arn": 1}]})
        assert (err.value.status, err.value.code) == (400, "InvalidParameterException")
        assert len(received) == 1
        await link.close()

    run(scenario())
