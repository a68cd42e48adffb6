from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from dockyard.agent.agent import Agent
from dockyard.core.clock import Clock, RealClock
from dockyard.drivers.process import ProcessDriver
from tests.unit.agent.fakes import FakeLink


@asynccontextmanager
async def running_agent(
    link: FakeLink, data_dir: Path, clock: Clock | None = None, stop_tasks: bool = True
) -> AsyncIterator[Agent]:
    agent = Agent(link, ProcessDriver(data_dir), clock or RealClock(), data_dir, poll_wait=5)
    task = asyncio.create_task(agent.run())
    await asyncio.wait_for(agent.ready.wait(), 10)
    try:
        yield agent
    finally:
        await agent.stop(stop_tasks=stop_tasks)
        await task


AgentFactory = Callable[..., object]
