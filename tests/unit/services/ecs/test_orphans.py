"""Orphaned tasks on the server: the agent's `orphans` call over HTTP, the operator's
/_dockyard/orphans endpoint, and what the store keeps."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx

from dockyard.agent.http_link import HttpLink
from dockyard.core.orphans import OrphanReport, Verdict
from dockyard.core.taskspec import DesiredStatus
from dockyard.services.ecs.instances.agent_http import AgentEndpoint
from dockyard.services.ecs.instances.orphans_http import OrphansEndpoint
from dockyard.services.ecs.service import Ecs
from tests.unit.services.ecs.tasks_harness import (
    Client,
    make_ecs,
    make_link,
    registration,
    report,
    run,
)

LOST = "arn:aws:ecs:us-east-1:000000000000:task/default/" + "a" * 32


def clients(
    path: str, credentials: dict[str, str] | None = None
) -> tuple[Ecs, HttpLink, httpx.AsyncClient]:
    ecs = make_ecs(path)
    agent = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=AgentEndpoint(make_link(ecs, managed_capacity=False))),
        base_url="http://dockyard",
    )
    operator = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=OrphansEndpoint(ecs.orphans, credentials)),
        base_url="http://dockyard",
    )
    return ecs, HttpLink("http://dockyard", client=agent), operator


def test_stopped_tasks_are_stopped_unknown_ones_orphaned_listed_and_stopped(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "store.sqlite3")
    ecs, link, operator = clients(path)
    client = Client(ecs)

    async def scenario() -> None:
        instance = await link.register(registration())
        client.taskdef()
        known = client.run_task()["tasks"][0]["taskArn"]
        (assigned,) = await link.assignments(instance, 0)
        await link.report(instance, [report(known, "RUNNING")])
        client("StopTask", task=known, reason="done")
        await link.report(instance, [report(known, "STOPPED")])
        lost_spec = dataclasses.replace(assigned.spec, task_arn=LOST)

        verdicts = await link.orphans(
            instance,
            [OrphanReport(assigned.spec, "RUNNING"), OrphanReport(lost_spec, "RUNNING")],
        )
        by_arn = {v.task_arn: v for v in verdicts}
        assert by_arn[known].verdict == Verdict.STOP
        assert by_arn[known].stop_code == "UserInitiated"
        assert by_arn[LOST].verdict == Verdict.ORPHANED

        listed = (await operator.get("/_dockyard/orphans")).json()["orphans"]
        assert [(o["taskArn"], o["containerInstanceArn"], o["lastStatus"]) for o in listed] == [
            (LOST, instance, "RUNNING")
        ]
        assert listed[0]["taskDefinition"] == "web:1"
        assert listed[0]["stopRequested"] is False
        # The store keeps it: a restarted server still shows it.
        assert [o.task_arn for o in make_ecs(path).orphans.listed()] == [LOST]

        bad = await operator.post("/_dockyard/orphans/stop", json={"taskArns": "x"})
        assert bad.status_code == 400
        assert bad.json()["__type"] == "InvalidParameterException"
        answer = await operator.post("/_dockyard/orphans/stop", json={"taskArns": [LOST, known]})
        assert answer.json() == {"stopping": [LOST], "unknown": [known]}
        (stop,) = await link.assignments(instance, 0)
        assert (stop.spec.task_arn, stop.desired_status) == (LOST, DesiredStatus.STOPPED)
        assert stop.stop_code == "UserInitiated"
        await link.report(instance, [report(LOST, "STOPPED")])
        assert (await operator.get("/_dockyard/orphans")).json() == {"orphans": []}
        assert await link.assignments(instance, 0) == []
        assert make_ecs(path).orphans.listed() == []
        await link.close()
        await operator.aclose()

    run(scenario())


def test_a_reset_forgets_orphans_and_the_endpoint_checks_signatures(tmp_path: Path) -> None:
    ecs, link, operator = clients(str(tmp_path / "s.sqlite3"), {"AKID": "SECRET"})

    async def scenario() -> None:
        instance = await link.register(registration())
        Client(ecs).taskdef()
        Client(ecs).run_task()
        (assigned,) = await link.assignments(instance, 0)
        spec = dataclasses.replace(assigned.spec, task_arn=LOST)
        await link.orphans(instance, [OrphanReport(spec, "RUNNING")])
        assert [o.task_arn for o in ecs.orphans.listed()] == [LOST]
        unsigned = await operator.get("/_dockyard/orphans")
        assert unsigned.status_code == 403
        ecs.store.reset()
        ecs.reset()
        assert ecs.orphans.listed() == []
        await link.close()
        await operator.aclose()

    run(scenario())
