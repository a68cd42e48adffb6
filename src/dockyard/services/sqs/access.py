"""What SQS operations act on: the queue's ARN (from QueueUrl or QueueName), with its tags;
the batch operations are authorized as their single forms (sqs:SendMessage, ...), as AWS
does. A queue's policy is weighed with the caller's own."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dockyard.api.access import Access, AccessFunction, AccessRequest
from dockyard.core.iampolicy import Policy, PolicyError, PolicyKind, parse_policy
from dockyard.core.scope import Scope
from dockyard.services.sqs.errors import SqsError
from dockyard.services.sqs.model import queue_arn
from dockyard.services.sqs.queues import Queues, name_from_url

ACTION_OF = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def arn_of(req: AccessRequest) -> str | None:
    url = req.params.get("QueueUrl")
    try:
        if isinstance(url, str):
            account, name = name_from_url(url)
            return queue_arn(Scope(account or req.account_id, req.region), name)
    except SqsError:
        return None
    queue_name = req.params.get("QueueName")
    if isinstance(queue_name, str):
        owner = req.params.get("QueueOwnerAWSAccountId")
        owner_id = owner if isinstance(owner, str) else req.account_id
        return queue_arn(Scope(owner_id, req.region), queue_name)
    return None


def access(queues: Queues) -> AccessFunction:
    def resolve(req: AccessRequest) -> Sequence[Access]:
        action = f"sqs:{ACTION_OF.get(req.operation, req.operation)}"
        arn = arn_of(req)
        if arn is None:
            return [Access(action, "*")]
        state = queues.find(arn)
        return [Access(action, arn, dict(state.queue.tags) if state is not None else None)]

    return resolve


def resource_policy(queues: Queues) -> Callable[[AccessRequest], Policy | None]:
    def find(req: AccessRequest) -> Policy | None:
        arn = arn_of(req)
        state = queues.find(arn) if arn is not None else None
        text = state.queue.attributes.get("Policy") if state is not None else None
        if not text:
            return None
        try:
            return parse_policy(text, PolicyKind.RESOURCE, source=arn or "")
        except PolicyError:
            return None

    return find
