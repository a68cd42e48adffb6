"""SNS's error codes (the query protocol's `Error/Code`) and their HTTP statuses."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class InvalidParameterException(ServiceError):
    code = "InvalidParameter"
    status = 400


class InvalidParameterValueException(ServiceError):
    code = "ParameterValueInvalid"
    status = 400


class NotFoundException(ServiceError):
    code = "NotFound"
    status = 404


class AuthorizationErrorException(ServiceError):
    code = "AuthorizationError"
    status = 403


class TagLimitExceededException(ServiceError):
    code = "TagLimitExceeded"
    status = 400


class TooManyEntriesInBatchRequestException(ServiceError):
    code = "TooManyEntriesInBatchRequest"
    status = 400


class EmptyBatchRequestException(ServiceError):
    code = "EmptyBatchRequest"
    status = 400


class BatchEntryIdsNotDistinctException(ServiceError):
    code = "BatchEntryIdsNotDistinct"
    status = 400


class InvalidBatchEntryIdException(ServiceError):
    code = "InvalidBatchEntryId"
    status = 400


class BatchRequestTooLongException(ServiceError):
    code = "BatchRequestTooLong"
    status = 400


class UnsupportedFeature(ServiceError):
    """A feature of SNS Dockyard does not serve (FIFO topics, mobile push): named, 501."""

    code = "UnsupportedOperation"
    status = 501


def topic_not_found() -> NotFoundException:
    return NotFoundException("Topic does not exist")


def subscription_not_found() -> NotFoundException:
    return NotFoundException("Subscription does not exist")
