"""What a target receives: the event, constant `Input`, a part of it (`InputPath`), or an
input transformer's template filled from `InputPathsMap` (pure)."""

from __future__ import annotations

import json
import re
from typing import Any

from dockyard.services.events.errors import ValidationException

_PATH = re.compile(r"^\$(\.[^.\[\]]+|\[\d+\])*$")
_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_VAR = re.compile(r"<([A-Za-z0-9_.\-]+)>")
MISSING = object()


def check_path(path: str, field: str) -> None:
    if not _PATH.match(path):
        raise ValidationException(f"{field} is not a valid JSON path: {path}")


def select(event: Any, path: str) -> Any:
    """The value at a simple JSON path (`$.detail.containers[0].name`); MISSING if none."""
    value = event
    for name, index in _PART.findall(path):
        if name:
            if not isinstance(value, dict) or name not in value:
                return MISSING
            value = value[name]
        else:
            i = int(index)
            if not isinstance(value, list) or i >= len(value):
                return MISSING
            value = value[i]
    return value


def _inside_string(text: str, position: int) -> bool:
    quoted = False
    escaped = False
    for ch in text[:position]:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
    return quoted


def fill(template: str, values: dict[str, Any]) -> str:
    """Put values into `<name>` placeholders: inside a JSON string as text, elsewhere as JSON."""
    structured = template.lstrip()[:1] in ("{", "[")
    out: list[str] = []
    last = 0
    for match in _VAR.finditer(template):
        name = match[1]
        if name not in values:
            continue
        out.append(template[last : match.start()])
        value = values[name]
        if not structured:
            out.append(value if isinstance(value, str) else json.dumps(value))
        elif _inside_string(template, match.start()):
            text = value if isinstance(value, str) else json.dumps(value)
            out.append(json.dumps(text)[1:-1])
        elif value is MISSING:
            out.append("null")
        else:
            out.append(json.dumps(value))
        last = match.end()
    out.append(template[last:])
    return "".join(out)


def payload(target: dict[str, Any], event: dict[str, Any], rule_name: str, rule_arn: str,
            ingestion: str) -> str:  # fmt: skip
    """The text delivered to the target for this event."""
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        value = select(event, target["InputPath"])
        return "null" if value is MISSING else json.dumps(value)
    transformer = target.get("InputTransformer")
    if transformer is None:
        return json.dumps(event)
    values: dict[str, Any] = {
        "aws.events.rule-arn": rule_arn,
        "aws.events.rule-name": rule_name,
        "aws.events.event.ingestion-time": ingestion,
        "aws.events.event": event,
        "aws.events.event.json": event,
    }
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found = select(event, path)
        values[name] = "" if found is MISSING else found
    return fill(transformer["InputTemplate"], values)
