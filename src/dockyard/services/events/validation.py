"""EventBridge input rules beyond the botocore shapes."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import urllib.parse
from typing import Any

from dockyard.core import schedule
from dockyard.services.events import patterns, target_sqs, targets, transform
from dockyard.services.events.errors import InvalidEventPatternException, ValidationException

_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")


def rule_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint:"
            r" Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+"
        )
    return name


def bus_name(name: str) -> str:
    if not _BUS_NAME.match(name) or name.startswith("aws."):
        raise ValidationException(f"Event bus name {name} is not valid.")
    return name


def event_pattern(text: str) -> dict[str, Any]:
    try:
        pattern = json.loads(text)
    except ValueError as exc:
        raise InvalidEventPatternException(f"Event pattern is not valid. Reason: {exc}") from exc
    try:
        patterns.validate(pattern)
    except patterns.PatternError as exc:
        raise InvalidEventPatternException(str(exc)) from exc
    assert isinstance(pattern, dict)
    return pattern


def schedule_expression(text: str) -> None:
    try:
        schedule.parse(text)
    except schedule.ScheduleError as exc:
        raise ValidationException(f"Parameter ScheduleExpression is not valid: {exc}.") from exc


def target_problem(target: dict[str, Any]) -> str | None:
    """Why this target cannot be used (None when it can)."""
    kind = targets.kind_of(target["Arn"])
    if kind is None:
        return (
            f"Target {target['Arn']} is not supported by Dockyard: use a CloudWatch Logs log "
            "group, an ECS cluster (EcsParameters), a Lambda function, an API destination, an "
            "event bus or an SQS queue."
        )
    if kind == "ecs" and "EcsParameters" not in target:
        return "EcsParameters must be provided for an ECS cluster target."
    if kind != "ecs" and "EcsParameters" in target:
        return "EcsParameters can only be used with an ECS cluster target."
    if kind == "sqs" and (sqs_problem := target_sqs.problem(target)) is not None:
        return sqs_problem
    given = [k for k in ("Input", "InputPath", "InputTransformer") if k in target]
    if len(given) > 1:
        return f"Only one of Input, InputPath and InputTransformer may be set ({', '.join(given)})."
    if "Input" in target:
        try:
            json.loads(target["Input"])
        except ValueError:
            return "Input is not valid JSON."
    try:
        if "InputPath" in target:
            transform.check_path(target["InputPath"], "InputPath")
        for name, path in (target.get("InputTransformer", {}).get("InputPathsMap") or {}).items():
            transform.check_path(path, f"InputPathsMap.{name}")
    except ValidationException as exc:
        return exc.message
    return None


def endpoint(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "https":
        return url
    host = parsed.hostname or ""
    local = host in ("localhost",)
    with contextlib.suppress(ValueError):
        local = (
            local or ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_private
        )
    if parsed.scheme == "http" and local:
        return url
    raise ValidationException(
        f"InvocationEndpoint {url} is not valid: use https:// (http:// only for this machine "
        "or a private address)."
    )
