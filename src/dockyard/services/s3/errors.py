"""S3's error codes, with the HTTP statuses S3 answers them with."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class NoSuchBucket(ServiceError):
    code = "NoSuchBucket"
    status = 404


class NoSuchKey(ServiceError):
    code = "NoSuchKey"
    status = 404


class NoSuchVersion(ServiceError):
    code = "NoSuchVersion"
    status = 404


class NoSuchUpload(ServiceError):
    code = "NoSuchUpload"
    status = 404


class NoSuchTagSet(ServiceError):
    code = "NoSuchTagSet"
    status = 404


class NoSuchBucketPolicy(ServiceError):
    code = "NoSuchBucketPolicy"
    status = 404


class NoSuchCORSConfiguration(ServiceError):
    code = "NoSuchCORSConfiguration"
    status = 404


class NoSuchLifecycleConfiguration(ServiceError):
    code = "NoSuchLifecycleConfiguration"
    status = 404


class BucketAlreadyOwnedByYou(ServiceError):
    code = "BucketAlreadyOwnedByYou"
    status = 409


class BucketAlreadyExists(ServiceError):
    code = "BucketAlreadyExists"
    status = 409


class BucketNotEmpty(ServiceError):
    code = "BucketNotEmpty"
    status = 409


class InvalidBucketName(ServiceError):
    code = "InvalidBucketName"
    status = 400


class InvalidArgument(ServiceError):
    code = "InvalidArgument"
    status = 400


class InvalidRequest(ServiceError):
    code = "InvalidRequest"
    status = 400


class InvalidLocationConstraint(ServiceError):
    code = "InvalidLocationConstraint"
    status = 400


class IllegalLocationConstraintException(ServiceError):
    code = "IllegalLocationConstraintException"
    status = 400


class MalformedXML(ServiceError):
    code = "MalformedXML"
    status = 400


class MalformedPolicy(ServiceError):
    code = "MalformedPolicy"
    status = 400


class InvalidTag(ServiceError):
    code = "InvalidTag"
    status = 400


class KeyTooLongError(ServiceError):
    code = "KeyTooLongError"
    status = 400


class EntityTooSmall(ServiceError):
    code = "EntityTooSmall"
    status = 400


class EntityTooLarge(ServiceError):
    code = "EntityTooLarge"
    status = 400


class InvalidPart(ServiceError):
    code = "InvalidPart"
    status = 400


class InvalidPartOrder(ServiceError):
    code = "InvalidPartOrder"
    status = 400


class BadDigest(ServiceError):
    code = "BadDigest"
    status = 400


class InvalidDigest(ServiceError):
    code = "InvalidDigest"
    status = 400


class PreconditionFailed(ServiceError):
    code = "PreconditionFailed"
    status = 412


class NotModified(ServiceError):
    code = "NotModified"
    status = 304


class InvalidRange(ServiceError):
    code = "InvalidRange"
    status = 416


class MethodNotAllowed(ServiceError):
    code = "MethodNotAllowed"
    status = 405


class AccessForbidden(ServiceError):
    code = "AccessForbidden"
    status = 403
