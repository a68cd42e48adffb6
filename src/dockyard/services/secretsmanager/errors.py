"""Secrets Manager's error codes."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class ResourceExistsException(ServiceError):
    code = "ResourceExistsException"


class InvalidRequestException(ServiceError):
    code = "InvalidRequestException"


class InvalidParameterException(ServiceError):
    code = "InvalidParameterException"


class InvalidNextTokenException(ServiceError):
    code = "InvalidNextTokenException"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


class ValidationException(ServiceError):
    code = "ValidationException"


SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret."
MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
