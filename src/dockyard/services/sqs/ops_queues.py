"""Queue operations: request in, domain call, output out."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.sqs import policy, wire
from dockyard.services.sqs.errors import InvalidParameterValue, OverLimit
from dockyard.services.sqs.moves import MoveStatus, MoveTask
from dockyard.services.sqs.service import Sqs
from dockyard.services.sqs.state import QueueState

MAX_LIST = 1000
ACTIONS = ("*", "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility",
           "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue",
           "ListQueueTags")  # fmt: skip
MAX_PERMISSION_STATEMENTS = 7


def paged(items: list[str], p: Params, key_name: str) -> tuple[list[str], str | None]:
    limit = p.get("MaxResults")
    if limit is not None and not 1 <= int(limit) <= MAX_LIST:
        raise InvalidParameterValue(f"Value {limit} for parameter MaxResults is invalid. "
                                    "Reason: MaxResults must be an integer between 1 and "
                                    "1000.")  # fmt: skip
    if limit is None and p.get("NextToken") is None:
        return items[:MAX_LIST], None
    try:
        return page(items, lambda x: x, p.get("NextToken"), limit, MAX_LIST)
    except InvalidToken as exc:
        raise InvalidParameterValue("Invalid or expired next token.") from exc


def move_to_wire(task: MoveTask) -> Result:
    out: Result = {
        "Status": task.status,
        "SourceArn": task.source_arn,
        "ApproximateNumberOfMessagesMoved": task.moved,
        "ApproximateNumberOfMessagesToMove": task.to_move,
        "StartedTimestamp": int(task.started * 1000),
    }
    if task.status == MoveStatus.RUNNING:
        out["TaskHandle"] = task.handle
    if task.destination_arn:
        out["DestinationArn"] = task.destination_arn
    if task.rate is not None:
        out["MaxNumberOfMessagesPerSecond"] = task.rate
    if task.failure:
        out["FailureReason"] = task.failure
    return out


def handlers(sqs: Sqs, scheme: str = "http") -> dict[str, Handler]:
    queues = sqs.queues

    def state_of(ctx: RequestContext, p: Params) -> QueueState:
        return queues.by_url(scope_of(ctx), str(p["QueueUrl"]))

    def create_queue(ctx: RequestContext, p: Params) -> Result:
        queue = queues.create(
            scope_of(ctx),
            p["QueueName"],
            dict(p.get("Attributes") or {}),
            dict(p.get("tags") or {}),
        )
        return {"QueueUrl": wire.queue_url(ctx, scheme, queue)}

    def get_queue_url(ctx: RequestContext, p: Params) -> Result:
        state = queues.by_name(scope_of(ctx), p["QueueName"], p.get("QueueOwnerAWSAccountId"))
        return {"QueueUrl": wire.queue_url(ctx, scheme, state.queue)}

    def list_queues(ctx: RequestContext, p: Params) -> Result:
        found = queues.of_scope(scope_of(ctx), p.get("QueueNamePrefix") or "")
        names, token = paged([q.name for q in found], p, "QueueUrls")
        by_name = {q.name: q for q in found}
        out: Result = {}
        if names:
            out["QueueUrls"] = [wire.queue_url(ctx, scheme, by_name[n]) for n in names]
        if token:
            out["NextToken"] = token
        return out

    def delete_queue(ctx: RequestContext, p: Params) -> Result:
        queues.delete(state_of(ctx, p))
        return {}

    def get_queue_attributes(ctx: RequestContext, p: Params) -> Result:
        names = list(p.get("AttributeNames") or [])
        shown = queues.shown_attributes(state_of(ctx, p), names)
        return {"Attributes": shown} if shown else {}

    def set_queue_attributes(ctx: RequestContext, p: Params) -> Result:
        queues.set_attributes(state_of(ctx, p), dict(p["Attributes"]))
        return {}

    def tag_queue(ctx: RequestContext, p: Params) -> Result:
        queues.tag(state_of(ctx, p), dict(p["Tags"]))
        return {}

    def untag_queue(ctx: RequestContext, p: Params) -> Result:
        queues.untag(state_of(ctx, p), list(p["TagKeys"]))
        return {}

    def list_queue_tags(ctx: RequestContext, p: Params) -> Result:
        tags = state_of(ctx, p).queue.tags
        return {"Tags": dict(tags)} if tags else {}

    def purge_queue(ctx: RequestContext, p: Params) -> Result:
        queues.purge(state_of(ctx, p))
        return {}

    def list_dead_letter_source_queues(ctx: RequestContext, p: Params) -> Result:
        found = queues.dead_letter_sources(state_of(ctx, p))
        names, token = paged([q.name for q in found], p, "queueUrls")
        by_name = {q.name: q for q in found}
        out: Result = {"queueUrls": [wire.queue_url(ctx, scheme, by_name[n]) for n in names]}
        if token:
            out["NextToken"] = token
        return out

    def add_permission(ctx: RequestContext, p: Params) -> Result:
        state = state_of(ctx, p)
        label = str(p["Label"])
        actions = [str(a) for a in p["Actions"]]
        for action in actions:
            if action not in ACTIONS:
                raise InvalidParameterValue(f"Value SQS:{action} for parameter ActionName is "
                                            "invalid. Reason: Only the queue owner is allowed "
                                            "to invoke this action.")  # fmt: skip
        existing = policy.labels(state.queue)
        if label in existing:
            raise InvalidParameterValue(f"Value {label} for parameter Label is invalid. Reason: "
                                        "Already exists.")  # fmt: skip
        if len(existing) >= MAX_PERMISSION_STATEMENTS:
            raise OverLimit(f"{len(existing) + 1} Actions were found, maximum allowed is 7.")
        text = policy.with_permission(state.queue, label, list(p["AWSAccountIds"]), actions)
        queues.set_attributes(state, {"Policy": text})
        return {}

    def remove_permission(ctx: RequestContext, p: Params) -> Result:
        state = state_of(ctx, p)
        label = str(p["Label"])
        if label not in policy.labels(state.queue):
            raise InvalidParameterValue(f"Value {label} for parameter Label is invalid. Reason: "
                                        "can't find label on existing policy.")  # fmt: skip
        queues.set_attributes(state, {"Policy": policy.without_permission(state.queue, label)})
        return {}

    def start_message_move_task(ctx: RequestContext, p: Params) -> Result:
        rate = p.get("MaxNumberOfMessagesPerSecond")
        task = sqs.moves.start(
            str(p["SourceArn"]), p.get("DestinationArn"), None if rate is None else int(rate)
        )
        return {"TaskHandle": task.handle}

    def cancel_message_move_task(ctx: RequestContext, p: Params) -> Result:
        task = sqs.moves.cancel(str(p["TaskHandle"]))
        return {"ApproximateNumberOfMessagesMoved": task.moved}

    def list_message_move_tasks(ctx: RequestContext, p: Params) -> Result:
        limit = p.get("MaxResults")
        tasks = sqs.moves.list(str(p["SourceArn"]), None if limit is None else int(limit))
        return {"Results": [move_to_wire(t) for t in tasks]}

    return {
        "StartMessageMoveTask": start_message_move_task,
        "CancelMessageMoveTask": cancel_message_move_task,
        "ListMessageMoveTasks": list_message_move_tasks,
        "CreateQueue": create_queue,
        "GetQueueUrl": get_queue_url,
        "ListQueues": list_queues,
        "DeleteQueue": delete_queue,
        "GetQueueAttributes": get_queue_attributes,
        "SetQueueAttributes": set_queue_attributes,
        "TagQueue": tag_queue,
        "UntagQueue": untag_queue,
        "ListQueueTags": list_queue_tags,
        "PurgeQueue": purge_queue,
        "ListDeadLetterSourceQueues": list_dead_letter_source_queues,
        "AddPermission": add_permission,
        "RemovePermission": remove_permission,
    }
