"""STS error codes (query protocol)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ValidationError(ServiceError):
    code = "ValidationError"


class AccessDenied(ServiceError):
    code = "AccessDenied"
    status = 403


class MalformedPolicyDocument(ServiceError):
    code = "MalformedPolicyDocument"


class PackedPolicyTooLarge(ServiceError):
    code = "PackedPolicyTooLarge"
