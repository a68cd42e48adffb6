"""AWS Lambda (`lambda` is a Python keyword): zip functions on the python3.x and provided.*
runtimes, run in execution environments of their own through the Lambda Runtime API."""

from __future__ import annotations

from dockyard.api.provider import Provider
from dockyard.services.awslambda import access, ops, ops_mappings
from dockyard.services.awslambda.invoke import EVENT_KIND
from dockyard.services.awslambda.model import KIND
from dockyard.services.awslambda.service import Lambda
from dockyard.services.awslambda.urls import PREFIX as URL_PREFIX
from dockyard.services.awslambda.urls_http import UrlEndpoint

__all__ = ["EVENT_KIND", "KIND", "URL_PREFIX", "Lambda", "UrlEndpoint", "provider"]


def provider(lam: Lambda) -> Provider:
    return Provider(
        service="lambda",
        handlers={
            **ops.handlers(lam),
            **ops_mappings.handlers(lam.mappings),
            **ops_mappings.event_config_handlers(lam.event_configs),
            **ops_mappings.url_handlers(lam.urls),
        },
        validation_error_code="InvalidParameterValueException",
        reset=lam.reset,
        access=access.access(),
    )
