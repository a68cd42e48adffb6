"""Lambda functions as targets: each matched event is an asynchronous invocation (as
EventBridge makes it, as the principal events.amazonaws.com with the rule as SourceArn),
through the `core.functions.FunctionInvoker` port. The function's resource policy must let
the rule invoke it (lambda add-permission)."""

from __future__ import annotations

import asyncio
import logging

from dockyard.core.functions import FunctionInvoker, InvokeRefused

log = logging.getLogger(__name__)

PRINCIPAL = "events.amazonaws.com"
_pending: set[asyncio.Task[None]] = set()


def deliver(functions: FunctionInvoker | None, rule_arn: str, function_arn: str, body: str) -> str:
    """Queue the invocation; its outcome is logged when Lambda has answered."""
    if functions is None:
        return "failed: Lambda is not wired"

    async def send() -> None:
        try:
            request_id = await functions.invoke_event(
                function_arn, body.encode(), principal=PRINCIPAL, source_arn=rule_arn
            )
        except InvokeRefused as exc:
            log.warning("events: Lambda refused %s: %s: %s", function_arn, exc.code,
                        exc.message, extra={"rule_arn": rule_arn})  # fmt: skip
            return
        log.info("events: invoked %s (request %s)", function_arn, request_id,
                 extra={"rule_arn": rule_arn})  # fmt: skip

    try:
        task = asyncio.get_running_loop().create_task(send())
    except RuntimeError:
        return "failed: no event loop"
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return "sent"
