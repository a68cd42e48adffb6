"""Secrets Manager input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dockyard.services.secretsmanager.errors import (
    InvalidParameterException,
    InvalidRequestException,
    ValidationException,
)

MAX_TAGS = 50
MAX_VERSIONS = 100
_NAME = re.compile(r"[A-Za-z0-9/_+=.@\-]{1,512}")
_STAGE = re.compile(r"[A-Za-z0-9_.\-]{1,256}")


def name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValidationException(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of "
            f"the following: -/_+=.@! (Name: {value})"
        )
    return value


def secret_value(text: str | None, data: bytes | None) -> tuple[str | None, bytes | None]:
    if text is not None and data is not None:
        raise InvalidParameterException(
            "You can't specify both a binary secret value and a string secret value in the "
            "same secret (SecretString, SecretBinary)."
        )
    return text, data


def recovery_window(days: int | None, force: bool) -> int | None:
    """Days until a deleted secret goes for good: None to delete it at once."""
    if force and days is not None:
        raise InvalidParameterException(
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
        )
    if force:
        return None
    window = 30 if days is None else int(days)
    if not 7 <= window <= 30:
        raise InvalidParameterException(
            "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive) "
            f"(RecoveryWindowInDays: {window})."
        )
    return window


def stages(value: Sequence[str] | None) -> list[str]:
    result = list(dict.fromkeys(value or []))
    for stage in result:
        if not _STAGE.fullmatch(stage):
            raise InvalidParameterException(f"Invalid staging label: {stage} (VersionStages).")
    return result


def tags(value: Sequence[dict[str, Any]] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for tag in value or []:
        key, val = str(tag.get("Key", "")), str(tag.get("Value", ""))
        if key.lower().startswith("aws:"):
            raise InvalidParameterException(
                f"Tag keys with the aws: prefix are reserved (Tags: {key})."
            )
        if not 1 <= len(key) <= 128 or len(val) > 256:
            raise InvalidParameterException(
                f"Tag keys have 1 to 128 characters and values at most 256 (Tags: {key})."
            )
        result[key] = val
    return result


def tag_count(merged: dict[str, str]) -> None:
    if len(merged) > MAX_TAGS:
        raise InvalidRequestException(f"A secret can have at most {MAX_TAGS} tags (Tags).")
