"""The mailbox every reaction to an event runs from: queued, in order, bounded, never inline."""

from __future__ import annotations

import asyncio
import logging

import pytest

from dockyard.core.eventbus import Mailbox


async def settle(box: Mailbox[int], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not box.idle():
            await asyncio.sleep(0)


def test_put_never_calls_the_handler() -> None:
    seen: list[int] = []
    box: Mailbox[int] = Mailbox("t", seen.append)
    for i in range(3):
        box.put(i)
    assert seen == []
    assert box.drain() == 3
    assert seen == [0, 1, 2]


def test_items_are_handled_in_order_once_the_publisher_returns() -> None:
    seen: list[int] = []

    async def main() -> None:
        box: Mailbox[int] = Mailbox("t", seen.append)
        for i in range(5):
            box.put(i)
            assert seen == []  # the publisher still runs: nothing handled yet
        await settle(box)
        await box.stop()

    asyncio.run(main())
    assert seen == [0, 1, 2, 3, 4]


def test_a_handler_that_publishes_again_queues_behind_instead_of_recursing() -> None:
    order: list[int] = []
    depth = deepest = 0

    async def main() -> None:
        box: Mailbox[int]

        def handle(i: int) -> None:
            nonlocal depth, deepest
            depth += 1
            deepest = max(deepest, depth)
            order.append(i)
            if i < 50:
                box.put(i + 1)
                box.put(1000 + i)
            depth -= 1

        box = Mailbox("t", handle)
        box.put(0)
        await settle(box)
        await box.stop()

    asyncio.run(main())
    assert deepest == 1
    assert order[:5] == [0, 1, 1000, 2, 1001]
    assert len(order) == 101


def test_the_oldest_items_are_let_go_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[int] = []
    box: Mailbox[int] = Mailbox("loop", seen.append, limit=3)
    for i in range(5):
        box.put(i)
    with caplog.at_level(logging.WARNING):
        box.drain()
    assert seen == [2, 3, 4]
    assert box.dropped == 2
    assert "loop: 2 queued events dropped" in caplog.text


def test_a_failing_handler_is_logged_and_the_next_item_handled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []

    def handle(i: int) -> None:
        if i == 1:
            raise ValueError("boom")
        seen.append(i)

    async def main() -> None:
        box: Mailbox[int] = Mailbox("t", handle)
        for i in range(3):
            box.put(i)
        await settle(box)
        await box.stop()

    with caplog.at_level(logging.ERROR):
        asyncio.run(main())
    assert seen == [0, 2]
    assert "handling a queued event failed" in caplog.text


def test_a_closed_mailbox_takes_nothing() -> None:
    seen: list[int] = []
    box: Mailbox[int] = Mailbox("t", seen.append)
    box.put(1)
    box.close()
    box.put(2)
    assert box.drain() == 0
    assert seen == []


def test_a_stopped_mailbox_starts_again() -> None:
    seen: list[int] = []

    async def main() -> None:
        box: Mailbox[int] = Mailbox("t", seen.append)
        box.put(1)
        await settle(box)
        await box.stop()
        box.put(2)  # stopped: let go
        box.start()
        box.put(3)
        await settle(box)
        await box.stop()

    asyncio.run(main())
    assert seen == [1, 3]
