from __future__ import annotations

import asyncio
import time

import pytest

from dockyard.core.clock import ManualClock, ScaledClock


def test_manual_clock_wakes_sleepers_in_order() -> None:
    async def main() -> list[str]:
        clock = ManualClock(start=100.0)
        woke: list[str] = []

        async def sleeper(name: str, seconds: float) -> None:
            await clock.sleep(seconds)
            woke.append(f"{name}@{clock.now():.0f}")

        tasks = [asyncio.create_task(sleeper("b", 20)), asyncio.create_task(sleeper("a", 10))]
        await asyncio.sleep(0)
        clock.advance(5)
        await asyncio.sleep(0)
        assert woke == []
        clock.advance(10)
        await asyncio.sleep(0)
        assert woke == ["a@115"]
        clock.advance(10)
        await asyncio.gather(*tasks)
        return woke

    assert asyncio.run(main()) == ["a@115", "b@125"]


def test_scaled_clock_runs_faster() -> None:
    clock = ScaledClock(50.0)
    start_wall, start = time.monotonic(), clock.now()
    asyncio.run(clock.sleep(5.0))  # 5 clock seconds = 0.1 s of wall time
    wall = time.monotonic() - start_wall
    assert 0.09 <= wall < 1.0
    assert clock.now() - start >= 5.0
    with pytest.raises(ValueError):
        ScaledClock(0)
