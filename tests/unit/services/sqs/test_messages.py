"""Messages through the SQS domain: visibility, FIFO order and deduplication, dead-letter
queues, long polls and what a restart keeps."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from dockyard.core.clock import ManualClock
from dockyard.services.sqs import Sqs
from dockyard.services.sqs.errors import (
    InvalidParameterValue,
    MessageNotInflight,
    MissingParameter,
    ReceiptHandleIsInvalid,
    SqsUnsupported,
)
from dockyard.services.sqs.model import Message
from dockyard.services.sqs.sending import SendRequest
from dockyard.services.sqs.state import QueueState
from dockyard.store import SqliteStore
from tests.unit.services.sqs.conftest import SCOPE


def queue(sqs: Sqs, name: str, **attributes: str) -> QueueState:
    sqs.queues.create(SCOPE, name, attributes, {})
    return sqs.queues.by_name(SCOPE, name)


def receive(sqs: Sqs, state: QueueState, n: int = 10, visibility: int | None = None,
            wait: int = 0) -> list[Message]:  # fmt: skip
    return asyncio.run(sqs.messages.receive(state, n, visibility, wait))


def bodies(messages: list[Message]) -> list[str]:
    return [m.body for m in messages]


def test_a_received_message_is_hidden_until_its_visibility_timeout_ends(
    sqs: Sqs, clock: ManualClock
) -> None:
    q = queue(sqs, "work", VisibilityTimeout="30")
    sqs.messages.send(q, SendRequest("job"), "me")
    first = receive(sqs, q)
    assert bodies(first) == ["job"]
    assert receive(sqs, q) == []
    clock.advance(30)
    again = receive(sqs, q)
    assert bodies(again) == ["job"] and again[0].receive_count == 2
    assert again[0].receipt != first[0].receipt or first[0] is again[0]
    sqs.messages.delete(q, again[0].receipt or "")
    clock.advance(60)
    assert receive(sqs, q) == []


def test_delay_hides_a_message_and_counts_it_delayed(sqs: Sqs, clock: ManualClock) -> None:
    q = queue(sqs, "later")
    sqs.messages.send(q, SendRequest("soon", delay=10), "me")
    assert q.counts(clock.now()) == (0, 0, 1)
    assert receive(sqs, q) == []
    clock.advance(10)
    assert bodies(receive(sqs, q)) == ["soon"]
    assert q.counts(clock.now()) == (0, 1, 0)


def test_change_visibility_needs_a_message_in_flight(sqs: Sqs, clock: ManualClock) -> None:
    q = queue(sqs, "vis")
    sqs.messages.send(q, SendRequest("x"), "me")
    got = receive(sqs, q)
    sqs.messages.change_visibility(q, got[0].receipt or "", 0)
    again = receive(sqs, q)
    assert bodies(again) == ["x"]
    handle = again[0].receipt or ""
    sqs.messages.delete(q, handle)
    with pytest.raises(MessageNotInflight):
        sqs.messages.change_visibility(q, handle, 10)
    with pytest.raises(ReceiptHandleIsInvalid):
        sqs.messages.delete(q, "not-a-handle")


def test_fifo_keeps_group_order_and_blocks_a_group_with_a_message_in_flight(
    sqs: Sqs, clock: ManualClock
) -> None:
    q = queue(sqs, "orders.fifo", FifoQueue="true")
    for group, n in [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3)]:
        sqs.messages.send(
            q, SendRequest(f"{group}{n}", group_id=group, deduplication_id=f"{group}{n}"), "me"
        )
    first = receive(sqs, q, n=1)
    assert bodies(first) == ["a1"]
    # Group a is blocked while a1 is in flight; b goes on in its order.
    assert bodies(receive(sqs, q, n=1)) == ["b1"]
    assert receive(sqs, q, n=10) == []
    sqs.messages.delete(q, first[0].receipt or "")
    assert bodies(receive(sqs, q, n=10)) == ["a2", "a3"]


def test_fifo_drops_a_duplicate_within_five_minutes(sqs: Sqs, clock: ManualClock) -> None:
    q = queue(sqs, "dedup.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    one = sqs.messages.send(q, SendRequest("same", group_id="g"), "me")
    two = sqs.messages.send(q, SendRequest("same", group_id="g"), "me")
    assert two.message_id == one.message_id
    assert len(q.messages) == 1
    clock.advance(301)
    three = sqs.messages.send(q, SendRequest("same", group_id="g"), "me")
    assert three.message_id != one.message_id
    assert len(q.messages) == 2


def test_fifo_checks_group_and_deduplication_ids(sqs: Sqs) -> None:
    q = queue(sqs, "strict.fifo", FifoQueue="true")
    with pytest.raises(MissingParameter):
        sqs.messages.send(q, SendRequest("x", deduplication_id="d"), "me")
    with pytest.raises(InvalidParameterValue, match="ContentBasedDeduplication"):
        sqs.messages.send(q, SendRequest("x", group_id="g"), "me")
    with pytest.raises(InvalidParameterValue, match="DelaySeconds"):
        sqs.messages.send(q, SendRequest("x", group_id="g", deduplication_id="d", delay=5), "me")


def test_a_message_received_max_receive_count_times_moves_to_the_dead_letter_queue(
    sqs: Sqs, clock: ManualClock
) -> None:
    dlq = queue(sqs, "dead")
    src = queue(sqs, "src", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq.queue.arn, "maxReceiveCount": 3}
    ))  # fmt: skip
    sent = sqs.messages.send(src, SendRequest("poison"), "me")
    for _ in range(3):
        assert bodies(receive(sqs, src, visibility=0)) == ["poison"]
    assert receive(sqs, src, visibility=0) == []
    moved = receive(sqs, dlq)
    assert [m.message_id for m in moved] == [sent.message_id]
    assert moved[0].dead_letter_source == src.queue.arn
    assert [q.name for q in sqs.queues.dead_letter_sources(dlq)] == ["src"]


def test_a_long_poll_is_answered_when_a_message_arrives(sqs: Sqs, clock: ManualClock) -> None:
    q = queue(sqs, "poll")

    async def scenario() -> list[Message]:
        poll = asyncio.create_task(sqs.messages.receive(q, 1, None, 20))
        await asyncio.sleep(0)
        assert not poll.done() and len(q.waiters) == 1
        sqs.messages.send(q, SendRequest("wake"), "me")  # the clock has not moved
        return await asyncio.wait_for(poll, timeout=5)

    assert bodies(asyncio.run(scenario())) == ["wake"]


def test_a_long_poll_without_messages_ends_at_its_wait_time(sqs: Sqs, clock: ManualClock) -> None:
    q = queue(sqs, "quiet")

    async def settle() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def scenario() -> list[Message]:
        poll = asyncio.create_task(sqs.messages.receive(q, 1, None, 20))
        await settle()
        clock.advance(19)
        await settle()
        assert not poll.done()
        clock.advance(1)
        return await asyncio.wait_for(poll, timeout=5)

    assert asyncio.run(scenario()) == []
    assert q.waiters == []


def test_messages_survive_a_restart_and_are_visible_again(
    sqs: Sqs, clock: ManualClock, store_path: Path
) -> None:
    q = queue(sqs, "durable")
    f = queue(sqs, "durable.fifo", FifoQueue="true")
    ids = {sqs.messages.send(q, SendRequest(f"m{i}"), "me").message_id for i in range(5)}
    sqs.messages.send(f, SendRequest("f1", group_id="g", deduplication_id="d1"), "me")
    taken = receive(sqs, q, n=2)
    sqs.messages.delete(q, taken[0].receipt or "")
    again = Sqs(SqliteStore(store_path), clock)
    again.load()
    q2 = again.queues.by_name(SCOPE, "durable")
    got = asyncio.run(again.messages.receive(q2, 10, None, 0))
    assert {m.message_id for m in got} == ids - {taken[0].message_id}
    f2 = again.queues.by_name(SCOPE, "durable.fifo")
    dup = again.messages.send(f2, SendRequest("f1", group_id="g", deduplication_id="d1"), "me")
    assert len(f2.messages) == 1 and dup.message_id == next(iter(f2.messages))
    newer = again.messages.send(f2, SendRequest("f2", group_id="g", deduplication_id="d2"), "me")
    assert int(newer.sequence_number or 0) > int(dup.sequence_number or 0)


def test_retention_drops_old_messages(sqs: Sqs, clock: ManualClock) -> None:
    q = queue(sqs, "short", MessageRetentionPeriod="60")
    sqs.messages.send(q, SendRequest("old"), "me")
    clock.advance(61)
    assert receive(sqs, q) == []
    assert q.messages == {}


def test_batches_answer_each_entry(sqs: Sqs) -> None:
    q = queue(sqs, "batch")
    outcomes = sqs.messages.send_many(q, [SendRequest("a"), SendRequest(""), SendRequest("c")],
                                      "me")  # fmt: skip
    assert [type(o).__name__ for o in outcomes] == ["Sent", "MissingParameter", "Sent"]
    got = receive(sqs, q)
    results = sqs.messages.delete_many(q, [m.receipt or "" for m in got] + ["bad"])
    assert [type(r).__name__ for r in results] == ["NoneType", "NoneType", "ReceiptHandleIsInvalid"]
    assert q.messages == {}


def test_a_move_task_redrives_dead_letters_to_their_source(sqs: Sqs, clock: ManualClock) -> None:
    dlq = queue(sqs, "dead2")
    src = queue(sqs, "src2", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq.queue.arn, "maxReceiveCount": 1}
    ))  # fmt: skip
    for i in range(3):
        sqs.messages.send(src, SendRequest(f"p{i}"), "me")
    receive(sqs, src, visibility=0)
    assert receive(sqs, src, visibility=0) == []  # all three moved to the DLQ
    assert len(dlq.messages) == 3

    async def scenario() -> None:
        task = sqs.moves.start(dlq.queue.arn, None, None)
        assert task.to_move == 3
        assert task.runner is not None
        await asyncio.wait_for(task.runner, timeout=5)
        assert (task.status, task.moved) == ("COMPLETED", 3)

    asyncio.run(scenario())
    assert dlq.messages == {}
    assert sorted(bodies(receive(sqs, src))) == ["p0", "p1", "p2"]
    with pytest.raises(SqsUnsupported):
        asyncio.run(_start(sqs, src.queue.arn))  # src is no dead-letter queue


async def _start(sqs: Sqs, arn: str) -> None:
    sqs.moves.start(arn, None, None)


def test_a_receipt_handle_of_another_queue_is_invalid(sqs: Sqs) -> None:
    one, two = queue(sqs, "one"), queue(sqs, "two")
    sqs.messages.send(one, SendRequest("x"), "me")
    [got] = receive(sqs, one)
    with pytest.raises(ReceiptHandleIsInvalid, match="not valid for this queue"):
        sqs.messages.delete(two, got.receipt or "")
    sqs.messages.delete(one, got.receipt or "")
    assert one.messages == {}
