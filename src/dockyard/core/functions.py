"""How a service invokes a Lambda function without importing Lambda (EventBridge targets,
SNS subscriptions, CodeDeploy hooks, CloudWatch alarm actions). `services/awslambda` implements
`FunctionInvoker`; the composition root hands it to the others."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class InvokeRefused(Exception):
    """Lambda refused the invocation; `code` and `message` are Lambda's own
    (ResourceNotFoundException, AccessDeniedException, TooManyRequestsException, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class InvokeResult:
    status_code: int
    payload: bytes
    function_error: str | None = None  # "Unhandled" / "Handled", as Lambda's X-Amz-Function-Error
    executed_version: str = "$LATEST"


class FunctionInvoker(Protocol):
    def exists(self, function_arn: str) -> bool:
        """`function_arn` may name a version or an alias (`...:function:name:alias`)."""
        ...

    async def invoke_event(
        self, function_arn: str, payload: bytes, *, principal: str, source_arn: str | None
    ) -> str:
        """Queue an asynchronous invocation (InvocationType Event, with Lambda's retries and
        destinations); the request id. Raises `InvokeRefused` when the function's resource
        policy does not let `principal` (events.amazonaws.com, sns.amazonaws.com, ...) from
        `source_arn` invoke it, or the function does not exist."""
        ...

    async def invoke(
        self, function_arn: str, payload: bytes, *, principal: str, source_arn: str | None
    ) -> InvokeResult:
        """A synchronous invocation (RequestResponse), as CodeDeploy's hooks call it."""
        ...
