"""Identifiers and ARNs as AWS shapes them."""

from __future__ import annotations

import uuid

PARTITION = "aws"


def arn(service: str, region: str, account_id: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account_id}:{resource}"


def new_id() -> str:
    """A 32-hex-digit id, as ECS uses for task and container instance ids."""
    return uuid.uuid4().hex


def new_uuid() -> str:
    return str(uuid.uuid4())


def arn_resource(value: str) -> str:
    """The resource part of an ARN (`cluster/demo` of `arn:aws:ecs:r:a:cluster/demo`)."""
    parts = value.split(":", 5)
    return parts[5] if len(parts) == 6 else value


def is_arn(value: str) -> bool:
    return value.startswith("arn:")
