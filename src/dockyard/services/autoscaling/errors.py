"""Application Auto Scaling's error codes."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ValidationException(ServiceError):
    code = "ValidationException"


class ObjectNotFoundException(ServiceError):
    code = "ObjectNotFoundException"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


class InvalidNextTokenException(ServiceError):
    code = "InvalidNextTokenException"
