"""CloudWatch Logs' error codes."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class InvalidParameterException(ServiceError):
    code = "InvalidParameterException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExistsException(ServiceError):
    code = "ResourceAlreadyExistsException"


class TooManyTagsException(ServiceError):
    code = "TooManyTagsException"


class ValidationException(ServiceError):
    code = "ValidationException"


GROUP_NOT_FOUND = "The specified log group does not exist."
STREAM_NOT_FOUND = "The specified log stream does not exist."
GROUP_EXISTS = "The specified log group already exists"
STREAM_EXISTS = "The specified log stream already exists"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


class InvalidOperationException(ServiceError):
    code = "InvalidOperationException"
