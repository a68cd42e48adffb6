"""Lambda's error codes (the `Type` of each is the fault side, as Lambda's model says)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class InvalidParameterValueException(ServiceError):
    code = "InvalidParameterValueException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflictException(ServiceError):
    code = "ResourceConflictException"
    status = 409


class ResourceNotReadyException(ServiceError):
    code = "ResourceNotReadyException"
    status = 502


class PreconditionFailedException(ServiceError):
    code = "PreconditionFailedException"
    status = 412


class PolicyLengthExceededException(ServiceError):
    code = "PolicyLengthExceededException"


class RequestTooLargeException(ServiceError):
    code = "RequestTooLargeException"
    status = 413


class CodeStorageExceededException(ServiceError):
    code = "CodeStorageExceededException"


class InvalidRequestContentException(ServiceError):
    code = "InvalidRequestContentException"


class InvalidZipFileException(ServiceError):
    code = "InvalidZipFileException"
    status = 502


class TooManyRequestsException(ServiceError):
    code = "TooManyRequestsException"
    status = 429

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.extra = {"Reason": reason}


class AccessDeniedException(ServiceError):
    code = "AccessDeniedException"
    status = 403


class ServiceException(ServiceError):
    code = "ServiceException"
    status = 500
    sender_fault = False


class UnsupportedOperation(ServiceError):
    code = "UnsupportedOperation"
    status = 501
