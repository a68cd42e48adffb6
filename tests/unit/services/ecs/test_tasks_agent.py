"""The real agent and process driver behind the in-process link: tasks really run and stop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dockyard.agent.agent import Agent
from dockyard.core.clock import RealClock
from dockyard.drivers.process import ProcessDriver
from tests.unit.services.ecs.tasks_harness import Client, make_ecs, make_link


async def until(
    client: Client, arn: str, check: Callable[[dict[str, Any]], bool], timeout: float = 20
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        task = client.describe(arn)
        if check(task):
            return task
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"task never got there: {task}")
        await asyncio.sleep(0.05)


def test_tasks_run_and_stop_on_a_real_agent(tmp_path: Path) -> None:
    ecs = make_ecs(clock=RealClock())
    client, link = Client(ecs), make_link(ecs)
    client.taskdef(
        "sleeper",
        networkMode="host",
        containerDefinitions=[
            {"name": "app", "image": "process:/", "memory": 64,
             "command": ["/bin/sh", "-c", "exec sleep 30"]},
        ],
    )  # fmt: skip
    client.taskdef(
        "failing",
        networkMode="host",
        containerDefinitions=[
            {"name": "app", "image": "process:/", "memory": 64,
             "command": ["/bin/sh", "-c", "exit 3"]},
        ],
    )  # fmt: skip

    async def scenario() -> None:
        agent = Agent(link, ProcessDriver(tmp_path), RealClock(), tmp_path, poll_wait=5)
        runner = asyncio.create_task(agent.run())
        await asyncio.wait_for(agent.ready.wait(), 10)
        try:
            assert agent.instance_arn is not None
            assert client.instance(agent.instance_arn)["agentConnected"] is True

            sleeper = client.run_task("sleeper")["tasks"][0]["taskArn"]
            task = await until(client, sleeper, lambda t: t["lastStatus"] == "RUNNING")
            assert task["containers"][0]["runtimeId"]
            assert "startedAt" in task

            client("StopTask", task=sleeper, reason="enough")
            task = await until(client, sleeper, lambda t: t["lastStatus"] == "STOPPED")
            assert task["stopCode"] == "UserInitiated"
            assert task["stoppedReason"] == "enough"
            assert task["containers"][0]["lastStatus"] == "STOPPED"
            assert "exitCode" in task["containers"][0]

            failing = client.run_task("failing")["tasks"][0]["taskArn"]
            task = await until(client, failing, lambda t: t["lastStatus"] == "STOPPED")
            assert task["stopCode"] == "EssentialContainerExited"
            assert task["containers"][0]["exitCode"] == 3
            assert client("ListTasks")["taskArns"] == []
        finally:
            await agent.stop(stop_tasks=True)
            await runner
            link.agent_stopped(agent.instance_arn or "")

    asyncio.run(scenario())
    assert client("DescribeClusters")["clusters"][0]["runningTasksCount"] == 0
