"""SSM Parameter Store's error codes."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ValidationException(ServiceError):
    code = "ValidationException"


class ParameterNotFound(ServiceError):
    code = "ParameterNotFound"


class ParameterAlreadyExists(ServiceError):
    code = "ParameterAlreadyExists"


class ParameterVersionNotFound(ServiceError):
    code = "ParameterVersionNotFound"


class ParameterPatternMismatchException(ServiceError):
    code = "ParameterPatternMismatchException"


class InvalidAllowedPatternException(ServiceError):
    code = "InvalidAllowedPatternException"


class HierarchyLevelLimitExceededException(ServiceError):
    code = "HierarchyLevelLimitExceededException"


class HierarchyTypeMismatchException(ServiceError):
    code = "HierarchyTypeMismatchException"


class ParameterMaxVersionLimitExceeded(ServiceError):
    code = "ParameterMaxVersionLimitExceeded"


class ParameterVersionLabelLimitExceeded(ServiceError):
    code = "ParameterVersionLabelLimitExceeded"


class UnsupportedParameterType(ServiceError):
    code = "UnsupportedParameterType"


class InvalidKeyId(ServiceError):
    code = "InvalidKeyId"


class InvalidFilterKey(ServiceError):
    code = "InvalidFilterKey"


class InvalidFilterOption(ServiceError):
    code = "InvalidFilterOption"


class InvalidFilterValue(ServiceError):
    code = "InvalidFilterValue"


class InvalidNextToken(ServiceError):
    code = "InvalidNextToken"


class InvalidResourceId(ServiceError):
    code = "InvalidResourceId"


class InvalidResourceType(ServiceError):
    code = "InvalidResourceType"


class TooManyTagsError(ServiceError):
    code = "TooManyTagsError"


def not_found(name: str) -> ParameterNotFound:
    return ParameterNotFound(f"Parameter {name} not found.")
