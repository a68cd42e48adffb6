"""Elastic Load Balancing v2 error codes (as the query protocol answers them)."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ValidationError(ServiceError):
    code = "ValidationError"


class LoadBalancerNotFound(ServiceError):
    code = "LoadBalancerNotFound"


class TargetGroupNotFound(ServiceError):
    code = "TargetGroupNotFound"


class ListenerNotFound(ServiceError):
    code = "ListenerNotFound"


class RuleNotFound(ServiceError):
    code = "RuleNotFound"


class DuplicateLoadBalancerName(ServiceError):
    code = "DuplicateLoadBalancerName"


class DuplicateTargetGroupName(ServiceError):
    code = "DuplicateTargetGroupName"


class DuplicateListener(ServiceError):
    code = "DuplicateListener"


class DuplicateTagKeys(ServiceError):
    code = "DuplicateTagKeys"


class PriorityInUse(ServiceError):
    code = "PriorityInUse"


class InvalidConfigurationRequest(ServiceError):
    code = "InvalidConfigurationRequest"


class InvalidTarget(ServiceError):
    code = "InvalidTarget"


class InvalidLoadBalancerAction(ServiceError):
    code = "InvalidLoadBalancerAction"


class IncompatibleProtocols(ServiceError):
    code = "IncompatibleProtocols"


class UnsupportedProtocol(ServiceError):
    code = "UnsupportedProtocol"


class CertificateNotFound(ServiceError):
    code = "CertificateNotFound"


class ResourceInUse(ServiceError):
    code = "ResourceInUse"


class OperationNotPermitted(ServiceError):
    code = "OperationNotPermitted"


class TooManyTags(ServiceError):
    code = "TooManyTags"


class TooManyTargets(ServiceError):
    code = "TooManyTargets"


class TooManyRegistrationsForTargetId(ServiceError):
    code = "TooManyRegistrationsForTargetId"


class TargetGroupAssociationLimit(ServiceError):
    code = "TargetGroupAssociationLimit"


class SSLPolicyNotFound(ServiceError):
    code = "SSLPolicyNotFound"


class PortInUse(ServiceError):
    """The host cannot listen on the port (Dockyard's listeners are real sockets)."""

    code = "InvalidConfigurationRequest"
