"""EC2 Auto Scaling's error codes (the query protocol's `Code`)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ValidationError(ServiceError):
    code = "ValidationError"


class AlreadyExists(ServiceError):
    code = "AlreadyExists"


class ResourceInUse(ServiceError):
    code = "ResourceInUse"


class ScalingActivityInProgress(ServiceError):
    code = "ScalingActivityInProgress"


class ResourceContention(ServiceError):
    code = "ResourceContention"
    status = 500


class LimitExceeded(ServiceError):
    code = "LimitExceeded"


class InvalidNextToken(ServiceError):
    code = "InvalidNextToken"


class ActiveInstanceRefreshNotFound(ServiceError):
    code = "ActiveInstanceRefreshNotFound"


class InstanceRefreshInProgress(ServiceError):
    code = "InstanceRefreshInProgress"
