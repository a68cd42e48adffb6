"""ECS input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

import re
from typing import Any

from dockyard.services.ecs.errors import InvalidParameterException

_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_CONTAINER_INSIGHTS = {"enabled", "disabled", "enhanced"}


def cluster_name(name: str) -> str:
    if not _CLUSTER_NAME.match(name):
        raise InvalidParameterException(
            "Cluster name can have up to 255 characters: letters (upper and lower case), "
            f"numbers, underscores and hyphens (clusterName: {name!r})."
        )
    return name


def cluster_settings(settings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for s in settings:
        if not s.get("name"):
            raise InvalidParameterException(
                "Each cluster setting needs a name (settings.name: containerInsights)."
            )
        if s.get("name") == "containerInsights" and s.get("value") not in _CONTAINER_INSIGHTS:
            raise InvalidParameterException(
                "containerInsights setting value must be one of enabled, disabled, enhanced "
                f"(settings.value: {s.get('value')!r})."
            )
    return settings
