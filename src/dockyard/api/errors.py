"""AWS-shaped errors.

A service raises a `ServiceError` (or a subclass named after the AWS error code); the
front door serializes it in the request's protocol. `code` is the AWS error code the
client sees, `status` the HTTP status.
"""

from __future__ import annotations

from dockyard.core.errors import ServiceError as ServiceError


class ValidationError(ServiceError):
    """Input that does not fit the operation's shape. The front door maps the code per
    service (ECS answers InvalidParameterException, query services ValidationError)."""

    code = "ValidationException"


class SerializationError(ServiceError):
    code = "SerializationException"


class UnsupportedOperation(ServiceError):
    """An operation of a service model that Dockyard does not implement yet."""

    code = "UnsupportedOperation"
    status = 501


class UnknownOperation(ServiceError):
    code = "UnknownOperationException"
    status = 404


class InternalError(ServiceError):
    code = "InternalFailure"
    status = 500
    sender_fault = False


class ServiceUnavailable(ServiceError):
    """The state store could not commit (disk full, database unreachable): nothing changed,
    and the client may retry (AWS SDKs retry a 503 on their own)."""

    code = "ServiceUnavailable"
    status = 503
    sender_fault = False
