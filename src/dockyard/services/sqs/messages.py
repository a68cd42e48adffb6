"""Messages: send (committed to the store before it is answered), receive (with long polls
answered as soon as a message arrives), delete, visibility, dead-letter redrive.

Durability: a message is a store record (kind `sqs.message`) from the moment its send is
answered until it is deleted, purged, expired or moved. What a receive changes (receive
count, visibility) is kept in memory only: after a restart every message is visible again
and its receive count starts over, which SQS's at-least-once delivery allows."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.core.ids import new_uuid
from dockyard.services.sqs import digests, sending
from dockyard.services.sqs.errors import (
    InvalidParameterValue,
    MessageNotInflight,
    ReceiptHandleIsInvalid,
    SqsError,
)
from dockyard.services.sqs.model import DEDUP_KIND, MESSAGE_KIND, Message, MessageAttribute
from dockyard.services.sqs.queues import Queues
from dockyard.services.sqs.sending import SendRequest
from dockyard.services.sqs.state import ATTEMPT_WINDOW, DEDUP_WINDOW, Attempt, QueueState
from dockyard.store.base import Delete, Put, Store

log = logging.getLogger(__name__)

MAX_VISIBILITY = 43_200
MAX_WAIT = 20
PRUNE_PER_SEND = 8  # expired deduplication records dropped along with each FIFO send


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: str
    md5_of_body: str
    md5_of_attributes: str | None
    md5_of_system_attributes: str | None
    sequence_number: str | None


def receipt_handle(queue_arn: str, message_id: str) -> str:
    raw = f"{queue_arn}|{message_id}|{secrets.token_hex(16)}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def message_of(handle: str, queue_arn: str) -> str:
    """The message id a receipt handle of this queue names; ReceiptHandleIsInvalid for a
    malformed one or one of another queue."""
    try:
        raw = base64.urlsafe_b64decode(handle.encode("ascii")).decode()
        arn, message_id, nonce = raw.split("|")
    except (binascii.Error, UnicodeError, ValueError):
        arn, message_id, nonce = "", "", ""
    if len(nonce) != 32:
        raise ReceiptHandleIsInvalid(
            f'The input receipt handle "{handle}" is not a valid receipt handle.'
        )
    if arn != queue_arn:
        raise ReceiptHandleIsInvalid(f'The receipt handle "{handle}" is not valid for this queue.')
    return message_id


def check_visibility(value: int) -> None:
    if not 0 <= value <= MAX_VISIBILITY:
        raise InvalidParameterValue(
            f"Value {value} for parameter VisibilityTimeout is invalid. "
            "Reason: Must be between 0 and 43200, if provided."
        )


class Messages:
    def __init__(self, store: Store, clock: Clock, queues: Queues) -> None:
        self.store = store
        self.clock = clock
        self.queues = queues
        self.sequence = 0

    def load(self) -> None:
        now = self.clock.now()
        orphans: list[Delete] = []
        for key, body in self.store.load(MESSAGE_KIND):
            message = Message.from_dict(body)
            self.sequence = max(self.sequence, message.sequence)
            state = self.queues.find(message.queue_arn)
            if state is None:
                orphans.append((MESSAGE_KIND, key))
                continue
            state.add(message, now)
        for key, body in self.store.load(DEDUP_KIND):
            arn, _, dedup = key.partition("/")
            state = self.queues.find(arn)
            if state is None or float(body["expires"]) <= now:
                orphans.append((DEDUP_KIND, key))
                continue
            state.remember(dedup, body["id"], int(body["n"]), float(body["expires"]))
        if orphans:
            self.store.write(deletes=orphans)
        # Sequence numbers go on from the clock (in microseconds) as well: they keep growing
        # across restarts even when every message that had a higher one has been deleted.
        self.sequence = max(self.sequence, int(now * 1_000_000))

    # -- send ---------------------------------------------------------------------------------

    def send_many(
        self, state: QueueState, requests: list[SendRequest], sender_id: str
    ) -> list[Sent | SqsError]:
        """Each request's outcome, in order; every accepted message is committed in one
        transaction before any is answered (or visible)."""
        queue = state.queue
        now = self.clock.now()
        outcomes: list[Sent | SqsError] = []
        puts: list[Put] = []
        fresh: list[Message] = []
        seen: dict[str, tuple[str, int]] = {}  # dedup key -> (id, seq) within this batch
        for request in requests:
            try:
                delay, dedup = sending.check(queue, request)
            except SqsError as exc:
                outcomes.append(exc)
                continue
            md5_attrs = digests.md5_of_attributes(request.attributes)
            md5_system = (
                digests.md5_of_attributes(
                    {"AWSTraceHeader": _string(request.trace_header)}
                ) if request.trace_header else None
            )  # fmt: skip
            md5_body = digests.md5_of_body(request.body)
            key = sending.dedup_key(queue, request.group_id, dedup) if dedup else None
            if key is not None:
                earlier = seen.get(key) or state.duplicate(key, now)
                if earlier is not None:  # accepted, not delivered again
                    outcomes.append(Sent(earlier[0], md5_body, md5_attrs, md5_system,
                                         f"{earlier[1]:020d}"))  # fmt: skip
                    continue
            self.sequence += 1
            message = Message(
                message_id=new_uuid(), queue_arn=queue.arn, sequence=self.sequence,
                body=request.body, md5_of_body=md5_body, sent=now, available=now + delay,
                sender_id=sender_id, attributes=dict(request.attributes),
                md5_of_attributes=md5_attrs, trace_header=request.trace_header,
                group_id=request.group_id, deduplication_id=dedup if queue.fifo else None,
                visible_at=now + delay,
            )  # fmt: skip
            puts.append((MESSAGE_KIND, message.key, message.to_dict()))
            if key is not None:
                seen[key] = (message.message_id, message.sequence)
                puts.append((DEDUP_KIND, f"{queue.arn}/{key}", {
                    "id": message.message_id, "n": message.sequence,
                    "expires": now + DEDUP_WINDOW,
                }))  # fmt: skip
            fresh.append(message)
            sequence = f"{message.sequence:020d}" if queue.fifo else None
            outcomes.append(Sent(message.message_id, md5_body, md5_attrs, md5_system, sequence))
        if not puts:
            return outcomes
        pruned = state.expired_dedup(now, PRUNE_PER_SEND) if queue.fifo else []
        try:
            self.store.write(puts, [(DEDUP_KIND, f"{queue.arn}/{k}") for k in pruned])
        except Exception:
            for k in pruned:  # still in the store: keep answering them as duplicates
                found = self.store.committed(DEDUP_KIND, f"{queue.arn}/{k}")
                if found is not None:
                    state.remember(k, found["id"], int(found["n"]), float(found["expires"]))
            raise
        for message in fresh:
            if message.deduplication_id is not None:
                key = sending.dedup_key(queue, message.group_id, message.deduplication_id)
                state.remember(key, message.message_id, message.sequence, now + DEDUP_WINDOW)
            state.add(message, now)
        return outcomes

    def send(self, state: QueueState, request: SendRequest, sender_id: str) -> Sent:
        outcome = self.send_many(state, [request], sender_id)[0]
        if isinstance(outcome, SqsError):
            raise outcome
        return outcome

    # -- receive ------------------------------------------------------------------------------

    async def receive(
        self,
        state: QueueState,
        max_messages: int,
        visibility: int | None,
        wait: int | None,
        attempt_id: str | None = None,
    ) -> list[Message]:
        if not 1 <= max_messages <= 10:
            raise InvalidParameterValue(f"Value {max_messages} for parameter "
                                        "MaxNumberOfMessages is invalid. Reason: Must be "
                                        "between 1 and 10, if provided.")  # fmt: skip
        if visibility is not None:
            check_visibility(visibility)
        if wait is not None and not 0 <= wait <= MAX_WAIT:
            raise InvalidParameterValue(f"Value {wait} for parameter WaitTimeSeconds is "
                                        "invalid. Reason: Must be >= 0 and <= 20, if "
                                        "provided.")  # fmt: skip
        if wait is None:
            wait = state.queue.number("ReceiveMessageWaitTimeSeconds")
        if attempt_id is not None and state.queue.fifo:
            repeated = self._repeat(state, attempt_id)
            if repeated is not None:
                return repeated
        deadline = self.clock.now() + wait
        loop = asyncio.get_running_loop()
        while True:
            got = self.take(state, max_messages, visibility)
            now = self.clock.now()
            if got or now >= deadline or self.queues.find(state.queue.arn) is not state:
                break
            next_change = state.next_change()
            until = deadline if next_change is None else min(deadline, next_change)
            waiter: asyncio.Future[None] = loop.create_future()
            state.waiters.append(waiter)
            sleeper = asyncio.ensure_future(self.clock.sleep(max(0.0, until - now)))
            try:
                await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                if not waiter.done():
                    waiter.cancel()
                    with contextlib.suppress(ValueError):
                        state.waiters.remove(waiter)
        if attempt_id is not None and state.queue.fifo and got:
            state.attempts[attempt_id] = Attempt(
                self.clock.now() + ATTEMPT_WINDOW,
                [(m.message_id, m.receipt or "") for m in got],
            )
        return got

    def _repeat(self, state: QueueState, attempt_id: str) -> list[Message] | None:
        now = self.clock.now()
        for key in [k for k, a in state.attempts.items() if a.expires <= now]:
            del state.attempts[key]
        attempt = state.attempts.get(attempt_id)
        if attempt is None:
            return None
        out = []
        for message_id, handle in attempt.handles:
            message = state.messages.get(message_id)
            if message is not None and message.receipt == handle:
                out.append(message)
        return out or None

    def take(self, state: QueueState, max_messages: int, visibility: int | None) -> list[Message]:
        """Up to `max_messages` visible messages, now in flight (no waiting)."""
        queue = state.queue
        now = self.clock.now()
        hidden_for = float(visibility if visibility is not None
                           else queue.number("VisibilityTimeout"))  # fmt: skip
        retention = queue.number("MessageRetentionPeriod")
        redrive = _redrive(queue.attributes.get("RedrivePolicy"))
        out: list[Message] = []
        for message in state.candidates(now):
            if message.sent + retention <= now:
                self.store.delete(MESSAGE_KIND, message.key)
                state.remove(message)
                continue
            if redrive is not None and message.receive_count >= redrive[1]:
                dlq = self.queues.find(redrive[0])
                if dlq is not None:
                    self.move(state, message, dlq, dead_letter_source=state.queue.arn)
                    log.info("sqs: message %s moved to dead-letter queue %s after %d receives",
                             message.message_id, dlq.queue.name, message.receive_count,
                             extra={"arn": queue.arn})  # fmt: skip
                    continue
            state.take(message, receipt_handle(queue.arn, message.message_id), now, hidden_for)
            out.append(message)
            if len(out) >= max_messages:
                break
        return out

    def move(
        self,
        state: QueueState,
        message: Message,
        to: QueueState,
        dead_letter_source: str | None = None,
    ) -> None:
        """To another queue, in one transaction: it keeps its id, body, attributes and sent
        time, and is visible there at once (a dead-letter queue records where it came from)."""
        self.sequence += 1
        now = self.clock.now()
        moved = Message(
            message_id=message.message_id, queue_arn=to.queue.arn, sequence=self.sequence,
            body=message.body, md5_of_body=message.md5_of_body, sent=message.sent,
            available=now, sender_id=message.sender_id, attributes=dict(message.attributes),
            md5_of_attributes=message.md5_of_attributes, trace_header=message.trace_header,
            group_id=message.group_id if to.queue.fifo else None,
            deduplication_id=message.deduplication_id if to.queue.fifo else None,
            dead_letter_source=dead_letter_source, visible_at=now,
        )  # fmt: skip
        self.store.write([(MESSAGE_KIND, moved.key, moved.to_dict())],
                         [(MESSAGE_KIND, message.key)])  # fmt: skip
        state.remove(message)
        to.add(moved, now)

    # -- delete, visibility -------------------------------------------------------------------

    def delete(self, state: QueueState, handle: str) -> None:
        """Deleting a message already gone succeeds, as in SQS."""
        message = state.messages.get(message_of(handle, state.queue.arn))
        if message is None:
            return
        self.store.delete(MESSAGE_KIND, message.key)
        state.remove(message)

    def delete_many(self, state: QueueState, handles: list[str]) -> list[SqsError | None]:
        """Each handle's outcome; the deletes commit in one transaction."""
        outcomes: list[SqsError | None] = []
        doomed: dict[str, Message] = {}
        for handle in handles:
            try:
                message_id = message_of(handle, state.queue.arn)
            except SqsError as exc:
                outcomes.append(exc)
                continue
            message = state.messages.get(message_id)
            if message is not None:
                doomed[message_id] = message
            outcomes.append(None)
        if doomed:
            self.store.write(deletes=[(MESSAGE_KIND, m.key) for m in doomed.values()])
            for message in doomed.values():
                state.remove(message)
        return outcomes

    def change_visibility(self, state: QueueState, handle: str, timeout: int) -> None:
        check_visibility(timeout)
        message = state.messages.get(message_of(handle, state.queue.arn))
        state.release_due(self.clock.now())
        if message is None or not message.in_flight:
            raise MessageNotInflight("Message does not exist or is not available for visibility "
                                     "timeout change.")  # fmt: skip
        state.change_visibility(message, self.clock.now(), float(timeout))


def _string(value: str | None) -> MessageAttribute:
    return MessageAttribute("String", value)


def _redrive(text: str | None) -> tuple[str, int] | None:
    if not text:
        return None
    doc = json.loads(text)
    return str(doc["deadLetterTargetArn"]), int(doc.get("maxReceiveCount", 10))
