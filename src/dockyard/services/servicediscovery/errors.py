"""AWS Cloud Map error codes."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class InvalidInput(ServiceError):
    code = "InvalidInput"


class NamespaceNotFound(ServiceError):
    code = "NamespaceNotFound"


class NamespaceAlreadyExists(ServiceError):
    code = "NamespaceAlreadyExists"


class ServiceNotFound(ServiceError):
    code = "ServiceNotFound"


class ServiceAlreadyExists(ServiceError):
    code = "ServiceAlreadyExists"


class InstanceNotFound(ServiceError):
    code = "InstanceNotFound"


class OperationNotFound(ServiceError):
    code = "OperationNotFound"


class ResourceInUse(ServiceError):
    code = "ResourceInUse"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class CustomHealthNotFound(ServiceError):
    code = "CustomHealthNotFound"


class DuplicateRequest(ServiceError):
    code = "DuplicateRequest"


class TooManyTagsException(ServiceError):
    code = "TooManyTagsException"


class ServiceAttributesLimitExceededException(ServiceError):
    code = "ServiceAttributesLimitExceededException"
