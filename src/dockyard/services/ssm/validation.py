"""Parameter Store input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dockyard.core.userregex import RegexError, compile_regex
from dockyard.services.ssm.errors import (
    HierarchyLevelLimitExceededException,
    InvalidAllowedPatternException,
    ParameterPatternMismatchException,
    TooManyTagsError,
    ValidationException,
)
from dockyard.services.ssm.model import ParameterType, Tier

MAX_ARN_LENGTH = 1011  # a parameter's name counts with its whole ARN
MAX_LEVELS = 15
MAX_VALUE = {Tier.STANDARD: 4096, Tier.ADVANCED: 8192}
MAX_TAGS = 50
MAX_LABELS = 10
MAX_VERSIONS = 100
MAX_ALLOWED_PATTERN = 1024

_NAME = re.compile(r"[a-zA-Z0-9_.\-/]+")
_LABEL = re.compile(r"[a-zA-Z0-9_.\-]{1,100}")

NAME_RULES = (
    'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed '
    "as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be "
    "formed as a mix of letters, numbers and the following 3 symbols .-_"
)


def name(value: str) -> str:
    """A parameter name as PutParameter accepts it."""
    bare = value.lstrip("/")
    if (
        not _NAME.fullmatch(value)
        or bare.lower().startswith(("aws", "ssm"))
        or "//" in value
        or value.endswith("/")
    ):
        raise ValidationException(f"{NAME_RULES} (Name: {value})")
    if "/" in value and not value.startswith("/"):
        raise ValidationException(
            f"Parameter name must be a fully qualified name: a path begins with a slash "
            f"(Name: {value})."
        )
    if value.count("/") > MAX_LEVELS:
        raise HierarchyLevelLimitExceededException(
            f"A hierarchy can have a maximum of {MAX_LEVELS} levels (Name: {value})."
        )
    return value


def path(value: str) -> str:
    if not value.startswith("/") or (value != "/" and not _NAME.fullmatch(value)):
        raise ValidationException(
            f"The parameter doesn't meet the parameter name requirements. The parameter name "
            f'must begin with a forward slash "/". It can\'t be prefixed with "aws" or "ssm" '
            f"(case-insensitive). (Path: {value})"
        )
    if value.count("/") > MAX_LEVELS + 1:
        raise HierarchyLevelLimitExceededException(
            f"A hierarchy can have a maximum of {MAX_LEVELS} levels (Path: {value})."
        )
    return value


def tier_for(requested: str | None, current: str | None, value: str) -> str:
    """The tier a new version is stored in. Intelligent-Tiering picks Standard while the value
    fits; an Advanced parameter never goes back to Standard."""
    wanted = requested or current or Tier.STANDARD
    if wanted == Tier.INTELLIGENT_TIERING:
        wanted = Tier.STANDARD if len(value) <= MAX_VALUE[Tier.STANDARD] else Tier.ADVANCED
        if current == Tier.ADVANCED:
            wanted = Tier.ADVANCED
    if current == Tier.ADVANCED and wanted == Tier.STANDARD:
        raise ValidationException(
            "This parameter uses the advanced-parameter tier. You can't downgrade a parameter "
            "from the advanced-parameter tier to the standard-parameter tier. If necessary, you "
            "can delete the advanced parameter and recreate it as a standard parameter."
        )
    limit = MAX_VALUE[Tier(wanted)]
    if len(value) > limit:
        if wanted == Tier.STANDARD:
            raise ValidationException(
                f"Standard tier parameters support a maximum parameter value of "
                f"{MAX_VALUE[Tier.STANDARD]} characters. To create a larger parameter value, "
                f"upgrade the parameter to use the advanced-parameter tier (Value: "
                f"{len(value)} characters)."
            )
        raise ValidationException(
            f"Advanced tier parameters support a maximum parameter value of {limit} characters "
            f"(Value: {len(value)} characters)."
        )
    return wanted


def value(text: str, kind: str, allowed_pattern: str | None) -> str:
    if not text:
        raise ValidationException(
            "1 validation error detected: Value '' at 'value' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if kind == ParameterType.STRING_LIST and any(not item for item in text.split(",")):
        raise ValidationException(
            "A StringList parameter is a comma-separated list of non-empty values (Value)."
        )
    if allowed_pattern:
        # RE2: matching is linear in the value, so no pattern can stall the server.
        if len(allowed_pattern) > MAX_ALLOWED_PATTERN:
            raise ValidationException(
                "1 validation error detected: Value at 'AllowedPattern' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_ALLOWED_PATTERN}"
            )
        try:
            compiled = compile_regex(allowed_pattern)
        except RegexError as exc:
            raise InvalidAllowedPatternException(
                f"The request doesn't meet the regular expression requirement: {exc} "
                f"(AllowedPattern: {allowed_pattern})."
            ) from exc
        items = text.split(",") if kind == ParameterType.STRING_LIST else [text]
        if not all(compiled.fullmatch(item) is not None for item in items):
            raise ParameterPatternMismatchException(
                f"Parameter value, cannot be validated against allowedPattern: {allowed_pattern}"
            )
    return text


def data_type(value: str | None) -> str:
    if value in (None, "", "text"):
        return "text"
    if value in ("aws:ec2:image", "aws:ssm:integration"):
        raise ValidationException(
            f"Dockyard has no EC2 images or integrations to validate a {value} parameter "
            f"against (DataType: {value}); use the data type text."
        )
    raise ValidationException(
        f"The following data type is not supported: {value} (for example: 'text', "
        f"'aws:ec2:image') (DataType)."
    )


def tags(value: Sequence[dict[str, Any]] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for tag in value or []:
        key, val = str(tag.get("Key", "")), str(tag.get("Value", ""))
        if key.lower().startswith("aws:"):
            raise ValidationException(f"Tag keys with the aws: prefix are reserved (Tags: {key}).")
        if not 1 <= len(key) <= 128 or len(val) > 256:
            raise ValidationException(
                f"Tag keys have 1 to 128 characters and values at most 256 (Tags: {key})."
            )
        result[key] = val
    return result


def tag_count(merged: dict[str, str]) -> None:
    if len(merged) > MAX_TAGS:
        raise TooManyTagsError(
            f"The Systems Manager resource can have at most {MAX_TAGS} tags (Tags)."
        )


def label_ok(label: str) -> bool:
    """Whether a label is valid: letters, digits, `.-_`; not starting with aws, ssm or a digit."""
    return bool(_LABEL.fullmatch(label)) and not (
        label.lower().startswith(("aws", "ssm")) or label[0].isdigit()
    )
