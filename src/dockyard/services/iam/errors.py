"""IAM error codes (query protocol)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ValidationError(ServiceError):
    code = "ValidationError"


class NoSuchEntity(ServiceError):
    code = "NoSuchEntity"
    status = 404


class EntityAlreadyExists(ServiceError):
    code = "EntityAlreadyExists"
    status = 409


class DeleteConflict(ServiceError):
    code = "DeleteConflict"
    status = 409


class LimitExceeded(ServiceError):
    code = "LimitExceeded"
    status = 409


class MalformedPolicyDocument(ServiceError):
    code = "MalformedPolicyDocument"


class InvalidInput(ServiceError):
    code = "InvalidInput"


class UnmodifiableEntity(ServiceError):
    code = "UnmodifiableEntity"
