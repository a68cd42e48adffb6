"""SQS as other services reach it: `core.queues.QueueSender` (EventBridge and SNS put
messages on queues) and `QueueConsumer` (Lambda's event source mappings take them)."""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.core.queues import Attribute, Outgoing, QueueRefused, Received
from dockyard.services.sqs import policy, wire
from dockyard.services.sqs.errors import SqsError
from dockyard.services.sqs.model import MessageAttribute
from dockyard.services.sqs.sending import SendRequest
from dockyard.services.sqs.service import Sqs
from dockyard.services.sqs.state import QueueState

NON_EXISTENT = "AWS.SimpleQueueService.NonExistentQueue"


class ServedQueues:
    """Both ports over one `Sqs`."""

    def __init__(self, sqs: Sqs) -> None:
        self.sqs = sqs

    def _state(self, queue_arn: str) -> QueueState:
        state = self.sqs.queues.find(queue_arn)
        if state is None:
            raise QueueRefused(NON_EXISTENT, f"The queue {queue_arn} does not exist.")
        return state

    # -- QueueSender ---------------------------------------------------------------------------

    def send(self, queue_arn: str, message: Outgoing) -> str:
        state = self._state(queue_arn)
        if message.principal is not None and not policy.service_may_send(
            state.queue, message.principal, message.source_arn
        ):
            raise QueueRefused(
                "AccessDenied",
                f"The policy of queue {queue_arn} does not allow {message.principal} to send "
                f"to it from {message.source_arn or 'this source'} (sqs:SendMessage).",
            )
        request = SendRequest(
            body=message.body,
            attributes={
                name: MessageAttribute(a.data_type, a.string_value, a.binary_value)
                for name, a in message.attributes.items()
            },
            group_id=message.group_id,
            deduplication_id=message.deduplication_id,
        )
        try:
            sent = self.sqs.messages.send(
                state, request, message.principal or state.queue.account_id
            )
        except SqsError as exc:
            raise QueueRefused(exc.query_code or exc.code, exc.message) from exc
        return sent.message_id

    # -- QueueConsumer -------------------------------------------------------------------------

    def exists(self, queue_arn: str) -> bool:
        return self.sqs.queues.find(queue_arn) is not None

    async def receive(
        self, queue_arn: str, max_messages: int, wait_seconds: float
    ) -> Sequence[Received]:
        state = self._state(queue_arn)
        got = await self.sqs.messages.receive(state, max(1, min(10, max_messages)), None,
                                              int(max(0, min(20, wait_seconds))))  # fmt: skip
        fifo = state.queue.fifo
        return [
            Received(
                message_id=m.message_id,
                receipt_handle=m.receipt or "",
                body=m.body,
                md5_of_body=m.md5_of_body,
                attributes=wire.system_attributes(m, fifo),
                message_attributes={
                    k: Attribute(v.data_type, v.string_value, v.binary_value)
                    for k, v in m.attributes.items()
                },
            )
            for m in got
        ]

    def delete(self, queue_arn: str, receipt_handles: Sequence[str]) -> None:
        self.sqs.messages.delete_many(self._state(queue_arn), list(receipt_handles))

    def release(self, queue_arn: str, receipt_handles: Sequence[str]) -> None:
        state = self._state(queue_arn)
        for handle in receipt_handles:
            try:
                self.sqs.messages.change_visibility(state, handle, 0)
            except SqsError:
                continue  # deleted or visible again already
