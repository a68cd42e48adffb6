"""ECS's error codes."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class ClientException(ServiceError):
    code = "ClientException"


class InvalidParameterException(ServiceError):
    code = "InvalidParameterException"


class ClusterNotFoundException(ServiceError):
    code = "ClusterNotFoundException"


class ClusterContainsContainerInstancesException(ServiceError):
    code = "ClusterContainsContainerInstancesException"


class ClusterContainsServicesException(ServiceError):
    code = "ClusterContainsServicesException"


class ClusterContainsTasksException(ServiceError):
    code = "ClusterContainsTasksException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"


class ServerException(ServiceError):
    code = "ServerException"
    status = 500
    sender_fault = False


class ServiceNotFoundException(ServiceError):
    code = "ServiceNotFoundException"


class ServiceNotActiveException(ServiceError):
    code = "ServiceNotActiveException"


class NamespaceNotFoundException(ServiceError):
    code = "NamespaceNotFoundException"


class TaskSetNotFoundException(ServiceError):
    code = "TaskSetNotFoundException"


class ServiceDeploymentNotFoundException(ServiceError):
    code = "ServiceDeploymentNotFoundException"


class ConflictException(ServiceError):
    code = "ConflictException"


class TargetNotFoundException(ServiceError):
    code = "TargetNotFoundException"


class AttributeLimitExceededException(ServiceError):
    code = "AttributeLimitExceededException"


class ResourceInUseException(ServiceError):
    code = "ResourceInUseException"
