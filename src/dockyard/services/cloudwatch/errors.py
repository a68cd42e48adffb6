"""CloudWatch's error codes (the query protocol names; json and cbor clients map them)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class InvalidParameterValueException(ServiceError):
    code = "InvalidParameterValue"


class InvalidParameterCombinationException(ServiceError):
    code = "InvalidParameterCombination"


class MissingRequiredParameterException(ServiceError):
    code = "MissingParameter"


class ResourceNotFound(ServiceError):
    code = "ResourceNotFound"
    status = 404


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class InvalidNextToken(ServiceError):
    code = "InvalidNextToken"


class LimitExceededFault(ServiceError):
    code = "LimitExceeded"


class InvalidFormatFault(ServiceError):
    code = "InvalidFormat"
