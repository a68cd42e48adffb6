"""Public parameters: the read-only `/aws/service/...` parameters AWS publishes in every
region, here those that name the built-in images (`core/images.py`): the recommended
ECS-optimized Amazon Linux 2023 image (a JSON document, and one parameter a member) and the
latest plain Amazon Linux 2023 image. They belong to no account (their ARNs have none), are
at version 1, and cannot be overwritten, deleted, labelled or tagged."""

from __future__ import annotations

from datetime import datetime

from dockyard.core.images import CREATED, PUBLIC_PARAMETER_ROOT, public_parameters
from dockyard.core.scope import Scope
from dockyard.services.ssm import filters
from dockyard.services.ssm.model import Parameter, ParameterType, Version

MODIFIED = datetime.strptime(CREATED, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def _parameter(region: str, name: str, value: str) -> Parameter:
    version = Version(1, value, ParameterType.STRING, MODIFIED, "")
    return Parameter(name, "", region, [version])


def is_public(name: str) -> bool:
    return name.startswith(PUBLIC_PARAMETER_ROOT)


def find(scope: Scope, name: str) -> Parameter | None:
    if not is_public(name):
        return None
    value = public_parameters(scope.region).get(name)
    return None if value is None else _parameter(scope.region, name, value)


def under(scope: Scope, path: str, recursive: bool) -> list[Parameter]:
    """The public parameters under `path` (one level down unless `recursive`)."""
    if not is_public(path if path.endswith("/") else path + "/"):
        return []
    return [
        _parameter(scope.region, name, value)
        for name, value in sorted(public_parameters(scope.region).items())
        if filters.under(name, path, recursive)
    ]
