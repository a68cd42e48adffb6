"""The controller work-queue runtime: de-duplication, one worker per key, requeue, backoff."""

from __future__ import annotations

import asyncio
import logging

import pytest

from dockyard.controllers.runtime import Runtime
from dockyard.core.clock import ManualClock


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_duplicates_collapse_and_keys_run_one_at_a_time() -> None:
    async def main() -> None:
        clock = ManualClock()
        seen: list[str] = []
        running: set[str] = set()
        overlap = False
        gate = asyncio.Event()

        async def reconcile(key: str) -> float | None:
            nonlocal overlap
            overlap = overlap or key in running
            running.add(key)
            seen.append(key)
            await gate.wait()
            running.discard(key)
            return None

        rt = Runtime("t", reconcile, clock, workers=4)
        for _ in range(5):
            rt.enqueue("a")
        rt.enqueue("b")
        rt.start()
        await settle()
        assert sorted(seen) == ["a", "b"]
        rt.enqueue("a")  # while "a" is being reconciled: once more afterwards, not in parallel
        rt.enqueue("a")
        await settle()
        assert seen.count("a") == 1
        gate.set()
        await settle()
        assert seen.count("a") == 2
        assert not overlap
        await rt.stop()

    asyncio.run(main())


def test_requeue_after_uses_the_clock() -> None:
    async def main() -> None:
        clock = ManualClock()
        calls: list[float] = []

        async def reconcile(key: str) -> float | None:
            calls.append(clock.now())
            return 10.0 if len(calls) < 3 else None

        rt = Runtime("t", reconcile, clock)
        rt.start()
        rt.enqueue("k")
        await settle()
        assert len(calls) == 1
        clock.advance(9)
        await settle()
        assert len(calls) == 1
        clock.advance(1)
        await settle()
        assert len(calls) == 2
        clock.advance(10)
        await settle()
        clock.advance(10)
        await settle()
        assert len(calls) == 3  # done: not again
        await rt.stop()

    asyncio.run(main())


def test_a_crash_is_logged_with_its_key_and_retried_with_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        clock = ManualClock()
        calls = 0

        async def reconcile(key: str) -> float | None:
            nonlocal calls
            calls += 1
            if calls <= 3:
                raise RuntimeError("boom")
            return None

        rt = Runtime("t", reconcile, clock, backoff_base=1.0)
        rt.start()
        rt.enqueue("svc-1")
        await settle()
        assert calls == 1
        clock.advance(1)  # first retry after 1 s
        await settle()
        assert calls == 2
        clock.advance(1)  # then 2 s
        await settle()
        assert calls == 2
        clock.advance(1)
        await settle()
        assert calls == 3
        clock.advance(4)
        await settle()
        assert calls == 4
        assert rt.errors == 3
        await rt.stop()

    with caplog.at_level(logging.ERROR):
        asyncio.run(main())
    assert "svc-1" in caplog.text and "boom" in caplog.text
