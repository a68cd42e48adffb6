"""ECR's error codes."""

from __future__ import annotations

from dockyard.core.errors import ServiceError


class AccessDeniedException(ServiceError):
    code = "AccessDeniedException"


class InvalidParameterException(ServiceError):
    code = "InvalidParameterException"


class ValidationException(ServiceError):
    code = "ValidationException"


class RepositoryNotFoundException(ServiceError):
    code = "RepositoryNotFoundException"


class RepositoryAlreadyExistsException(ServiceError):
    code = "RepositoryAlreadyExistsException"


class RepositoryNotEmptyException(ServiceError):
    code = "RepositoryNotEmptyException"


class RepositoryPolicyNotFoundException(ServiceError):
    code = "RepositoryPolicyNotFoundException"


class LifecyclePolicyNotFoundException(ServiceError):
    code = "LifecyclePolicyNotFoundException"


class LifecyclePolicyPreviewNotFoundException(ServiceError):
    code = "LifecyclePolicyPreviewNotFoundException"


class ImageNotFoundException(ServiceError):
    code = "ImageNotFoundException"


class ImageAlreadyExistsException(ServiceError):
    code = "ImageAlreadyExistsException"


class ImageTagAlreadyExistsException(ServiceError):
    code = "ImageTagAlreadyExistsException"


class ImageDigestDoesNotMatchException(ServiceError):
    code = "ImageDigestDoesNotMatchException"


class LayersNotFoundException(ServiceError):
    code = "LayersNotFoundException"


class InvalidTagParameterException(ServiceError):
    code = "InvalidTagParameterException"


class TooManyTagsException(ServiceError):
    code = "TooManyTagsException"


class UnsupportedUpstreamRegistryException(ServiceError):
    code = "UnsupportedUpstreamRegistryException"


class UnsupportedOperation(ServiceError):
    code = "UnsupportedOperation"
    status = 501


def repository_not_found(name: str, account_id: str) -> RepositoryNotFoundException:
    return RepositoryNotFoundException(
        f"The repository with name '{name}' does not exist in the registry with id '{account_id}'"
    )
