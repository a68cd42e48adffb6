"""Message operations: request in, domain call, output out."""

from __future__ import annotations

import re
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.sqs import wire
from dockyard.services.sqs.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    SqsError,
    TooManyEntriesInBatchRequest,
)
from dockyard.services.sqs.messages import Sent
from dockyard.services.sqs.sending import SendRequest
from dockyard.services.sqs.service import Sqs
from dockyard.services.sqs.state import QueueState

MAX_BATCH = 10
MAX_BATCH_BYTES = 1_048_576
ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def sender_of(ctx: RequestContext) -> str:
    return ctx.principal.user_id if ctx.principal is not None else ctx.account_id


def check_entries(entries: list[dict[str, Any]]) -> None:
    if not entries:
        raise EmptyBatchRequest("There should be at least one SendMessageBatchRequestEntry in "
                                "the request.")  # fmt: skip
    if len(entries) > MAX_BATCH:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH}. You have sent {len(entries)}."
        )
    ids = [str(e.get("Id", "")) for e in entries]
    for entry_id in ids:
        if not ENTRY_ID.fullmatch(entry_id):
            raise InvalidBatchEntryId("A batch entry id can only contain alphanumeric "
                                      "characters, hyphens and underscores. It can be at most "
                                      "80 letters long.")  # fmt: skip
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise BatchEntryIdsNotDistinct(f"Id {duplicate} repeated.")


def send_request(p: dict[str, Any]) -> SendRequest:
    system = wire.attributes_from_wire(p.get("MessageSystemAttributes"))
    trace = system.get("AWSTraceHeader")
    delay = p.get("DelaySeconds")
    return SendRequest(
        body=str(p.get("MessageBody", "")),
        delay=None if delay is None else int(delay),
        attributes=wire.attributes_from_wire(p.get("MessageAttributes")),
        trace_header=trace.string_value if trace is not None else None,
        group_id=p.get("MessageGroupId"),
        deduplication_id=p.get("MessageDeduplicationId"),
    )


def sent_to_wire(sent: Sent) -> Result:
    out: Result = {"MessageId": sent.message_id, "MD5OfMessageBody": sent.md5_of_body}
    if sent.md5_of_attributes:
        out["MD5OfMessageAttributes"] = sent.md5_of_attributes
    if sent.md5_of_system_attributes:
        out["MD5OfMessageSystemAttributes"] = sent.md5_of_system_attributes
    if sent.sequence_number:
        out["SequenceNumber"] = sent.sequence_number
    return out


def handlers(sqs: Sqs) -> dict[str, Handler]:
    queues, messages = sqs.queues, sqs.messages

    def state_of(ctx: RequestContext, p: Params) -> QueueState:
        return queues.by_url(scope_of(ctx), str(p["QueueUrl"]))

    def send_message(ctx: RequestContext, p: Params) -> Result:
        state = state_of(ctx, p)
        return sent_to_wire(messages.send(state, send_request(p), sender_of(ctx)))

    def send_message_batch(ctx: RequestContext, p: Params) -> Result:
        state = state_of(ctx, p)
        entries = list(p.get("Entries") or [])
        check_entries(entries)
        total = sum(len(str(e.get("MessageBody", "")).encode()) for e in entries)
        if total > MAX_BATCH_BYTES:
            raise BatchRequestTooLong(f"Batch requests cannot be longer than {MAX_BATCH_BYTES} "
                                      f"bytes. You have sent {total} bytes.")  # fmt: skip
        outcomes = messages.send_many(state, [send_request(e) for e in entries], sender_of(ctx))
        ok: list[Result] = []
        failed: list[Result] = []
        for entry, outcome in zip(entries, outcomes, strict=True):
            if isinstance(outcome, SqsError):
                failed.append(wire.batch_failure(entry["Id"], outcome))
            else:
                ok.append({"Id": entry["Id"], **sent_to_wire(outcome)})
        return {"Successful": ok, "Failed": failed}

    async def receive_message(ctx: RequestContext, p: Params) -> Result:
        state = state_of(ctx, p)
        visibility = p.get("VisibilityTimeout")
        wait = p.get("WaitTimeSeconds")
        got = await messages.receive(
            state,
            1 if p.get("MaxNumberOfMessages") is None else int(p["MaxNumberOfMessages"]),
            None if visibility is None else int(visibility),
            None if wait is None else int(wait),
            p.get("ReceiveRequestAttemptId"),
        )
        system = [*(p.get("AttributeNames") or []), *(p.get("MessageSystemAttributeNames") or [])]
        names = list(p.get("MessageAttributeNames") or [])
        fifo = state.queue.fifo
        if not got:
            return {}  # as SQS: no Messages member when none arrived
        return {"Messages": [wire.message_to_wire(m, fifo, system, names) for m in got]}

    def delete_message(ctx: RequestContext, p: Params) -> Result:
        messages.delete(state_of(ctx, p), str(p["ReceiptHandle"]))
        return {}

    def delete_message_batch(ctx: RequestContext, p: Params) -> Result:
        state = state_of(ctx, p)
        entries = list(p.get("Entries") or [])
        check_entries(entries)
        outcomes = messages.delete_many(state, [str(e["ReceiptHandle"]) for e in entries])
        ok: list[Result] = []
        failed: list[Result] = []
        for entry, outcome in zip(entries, outcomes, strict=True):
            if outcome is None:
                ok.append({"Id": entry["Id"]})
            else:
                failed.append(wire.batch_failure(entry["Id"], outcome))
        return {"Successful": ok, "Failed": failed}

    def change_message_visibility(ctx: RequestContext, p: Params) -> Result:
        messages.change_visibility(
            state_of(ctx, p), str(p["ReceiptHandle"]), int(p["VisibilityTimeout"])
        )
        return {}

    def change_message_visibility_batch(ctx: RequestContext, p: Params) -> Result:
        state = state_of(ctx, p)
        entries = list(p.get("Entries") or [])
        check_entries(entries)
        ok: list[Result] = []
        failed: list[Result] = []
        for entry in entries:
            try:
                messages.change_visibility(
                    state, str(entry["ReceiptHandle"]), int(entry.get("VisibilityTimeout") or 0)
                )
            except SqsError as exc:
                failed.append(wire.batch_failure(entry["Id"], exc))
            else:
                ok.append({"Id": entry["Id"]})
        return {"Successful": ok, "Failed": failed}

    return {
        "SendMessage": send_message,
        "SendMessageBatch": send_message_batch,
        "ReceiveMessage": receive_message,
        "DeleteMessage": delete_message,
        "DeleteMessageBatch": delete_message_batch,
        "ChangeMessageVisibility": change_message_visibility,
        "ChangeMessageVisibilityBatch": change_message_visibility_batch,
    }
