"""Amazon ECR: repositories and images (the ECR API), and the registry Docker pushes to."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.ecr import access, ops_images, ops_layers, ops_repositories
from dockyard.services.ecr.blobs import BlobStore
from dockyard.services.ecr.model import IMAGE_KIND, LAYER_KIND, REPOSITORY_KIND
from dockyard.services.ecr.registry_http import PREFIX, Registry
from dockyard.services.ecr.service import Ecr
from dockyard.services.ecr.tokens import Tokens

__all__ = [
    "IMAGE_KIND",
    "LAYER_KIND",
    "PREFIX",
    "REPOSITORY_KIND",
    "BlobStore",
    "Ecr",
    "Registry",
    "Tokens",
    "provider",
]


def provider(ecr: Ecr) -> Provider:
    return Provider(
        service="ecr",
        handlers={
            **ops_repositories.handlers(ecr),
            **ops_images.handlers(ecr),
            **ops_layers.handlers(ecr),
        },
        validation_error_code="InvalidParameterException",
        reset=ecr.reset,
        access=access.access(ecr.repositories),
    )
