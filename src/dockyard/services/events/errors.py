"""EventBridge's error codes."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ValidationException(ServiceError):
    code = "ValidationException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class ResourceAlreadyExistsException(ServiceError):
    code = "ResourceAlreadyExistsException"


class InvalidEventPatternException(ServiceError):
    code = "InvalidEventPatternException"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


class IllegalStatusException(ServiceError):
    code = "IllegalStatusException"


class ConcurrentModificationException(ServiceError):
    code = "ConcurrentModificationException"
