"""The one base of every AWS-shaped error: a domain raises a `ServiceError` (or a subclass
named after the AWS error code) and the front door (`api.errors` re-exports this) serializes
it in the request's protocol. `code` is the AWS error code the client sees, `status` the
HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    code: str = "InternalFailure"
    status: int = 400
    sender_fault: bool = True
    # A query-compatible JSON service's legacy query error code (SQS's
    # AWS.SimpleQueueService.NonExistentQueue), sent in x-amzn-query-error; None: `code`.
    query_code: str | None = None

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
