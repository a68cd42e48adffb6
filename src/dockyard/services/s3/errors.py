"""S3's error codes, with the HTTP statuses S3 answers them with."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


def _error(code: str, status: int) -> type[ServiceError]:
    return type(code, (ServiceError,), {"code": code, "status": status})


NoSuchBucket = _error("NoSuchBucket", 404)
NoSuchKey = _error("NoSuchKey", 404)
NoSuchVersion = _error("NoSuchVersion", 404)
NoSuchUpload = _error("NoSuchUpload", 404)
NoSuchTagSet = _error("NoSuchTagSet", 404)
NoSuchBucketPolicy = _error("NoSuchBucketPolicy", 404)
NoSuchCORSConfiguration = _error("NoSuchCORSConfiguration", 404)
NoSuchLifecycleConfiguration = _error("NoSuchLifecycleConfiguration", 404)
BucketAlreadyOwnedByYou = _error("BucketAlreadyOwnedByYou", 409)
BucketAlreadyExists = _error("BucketAlreadyExists", 409)
BucketNotEmpty = _error("BucketNotEmpty", 409)
InvalidBucketName = _error("InvalidBucketName", 400)
InvalidArgument = _error("InvalidArgument", 400)
InvalidRequest = _error("InvalidRequest", 400)
InvalidLocationConstraint = _error("InvalidLocationConstraint", 400)
IllegalLocationConstraintException = _error("IllegalLocationConstraintException", 400)
MalformedXML = _error("MalformedXML", 400)
MalformedPolicy = _error("MalformedPolicy", 400)
InvalidTag = _error("InvalidTag", 400)
KeyTooLongError = _error("KeyTooLongError", 400)
EntityTooSmall = _error("EntityTooSmall", 400)
EntityTooLarge = _error("EntityTooLarge", 400)
InvalidPart = _error("InvalidPart", 400)
InvalidPartOrder = _error("InvalidPartOrder", 400)
BadDigest = _error("BadDigest", 400)
InvalidDigest = _error("InvalidDigest", 400)
PreconditionFailed = _error("PreconditionFailed", 412)
NotModified = _error("NotModified", 304)
InvalidRange = _error("InvalidRange", 416)
MethodNotAllowed = _error("MethodNotAllowed", 405)
AccessForbidden = _error("AccessForbidden", 403)
