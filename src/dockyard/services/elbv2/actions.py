"""Listener and rule actions and rule conditions: read from the wire, checked, written back."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.services.elbv2.errors import InvalidLoadBalancerAction, ValidationError
from dockyard.services.elbv2.model import (
    Action,
    ActionType,
    Condition,
    ConditionField,
    FixedResponse,
    QueryPair,
    Redirect,
    WeightedGroup,
)

TERMINAL = (ActionType.FORWARD, ActionType.REDIRECT, ActionType.FIXED_RESPONSE)
CONTENT_TYPES = (
    "text/plain", "text/css", "text/html", "application/javascript", "application/json",
)  # fmt: skip
MAX_CONDITION_VALUES = 5
MAX_CONDITION_WILDCARDS = 5  # the condition-wildcards-per-alb-rule quota
MAX_VALUE_LENGTH = 128  # each path, host, header or query-string value
PATH_RE = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?=%!,;()]+$")
HOST_RE = re.compile(r"^[A-Za-z0-9\-.*?]+$")
METHOD_RE = re.compile(r"^[A-Z_-]{1,40}$")
STATUS_RE = re.compile(r"^[245]\d\d$")
WILDCARD_FIELDS = frozenset({
    ConditionField.PATH_PATTERN, ConditionField.HOST_HEADER, ConditionField.HTTP_HEADER,
    ConditionField.QUERY_STRING,
})  # fmt: skip
FIELDS_ONCE = (
    ConditionField.HOST_HEADER,
    ConditionField.PATH_PATTERN,
    ConditionField.HTTP_REQUEST_METHOD,
    ConditionField.SOURCE_IP,
)

Wire = Mapping[str, Any]


# Actions


def _forward(item: Wire, action: Action) -> None:
    config = item.get("ForwardConfig")
    single = item.get("TargetGroupArn")
    if config is None:
        if not single:
            raise ValidationError("A target group ARN must be specified for a forward action")
        action.target_group_arn = single
        return
    groups = [
        WeightedGroup(str(g["TargetGroupArn"]), int(g.get("Weight", 1)))
        for g in config.get("TargetGroups") or []
    ]
    if not groups:
        raise ValidationError("A forward action's ForwardConfig needs at least one target group")
    if len(groups) > 5:
        raise ValidationError("A forward action can have at most 5 target groups")
    arns = [g.target_group_arn for g in groups]
    if len(set(arns)) != len(arns):
        raise ValidationError("A target group can appear only once in a forward action")
    for g in groups:
        if not 0 <= g.weight <= 999:
            raise ValidationError(f"Target group weight '{g.weight}' must be between 0 and 999")
    if single and (len(groups) != 1 or groups[0].target_group_arn != single):
        raise ValidationError(
            "You cannot specify both a TargetGroupArn and a ForwardConfig with other target groups"
        )
    if len(groups) > 1 and all(g.weight == 0 for g in groups):
        raise ValidationError("At least one target group in a forward action needs weight > 0")
    sticky = config.get("TargetGroupStickinessConfig") or {}
    action.groups = groups
    action.forward_config = True
    action.group_stickiness = bool(sticky.get("Enabled", False))
    duration = int(sticky.get("DurationSeconds", 3600))
    if action.group_stickiness and not 1 <= duration <= 604800:
        raise ValidationError(
            f"Target group stickiness duration '{duration}' must be between 1 and 604800"
        )
    action.group_stickiness_seconds = duration


def _redirect(item: Wire) -> Redirect:
    config = item.get("RedirectConfig")
    if not config:
        raise ValidationError("A redirect action needs a RedirectConfig")
    r = Redirect(status_code=str(config["StatusCode"]))
    for attr, key in (("protocol", "Protocol"), ("port", "Port"), ("host", "Host"),
                      ("path", "Path"), ("query", "Query")):  # fmt: skip
        if key in config and config[key] is not None:
            setattr(r, attr, str(config[key]))
    if r.protocol not in ("HTTP", "HTTPS", "#{protocol}"):
        raise ValidationError(
            f"Redirect protocol '{r.protocol}' must be HTTP, HTTPS or #{{protocol}}"
        )
    if r.port != "#{port}" and not (r.port.isdigit() and 1 <= int(r.port) <= 65535):
        raise ValidationError(f"Redirect port '{r.port}' must be between 1 and 65535 or #{{port}}")
    if not r.path.startswith("/"):
        raise ValidationError(f"Redirect path '{r.path}' must start with '/'")
    default = Redirect(status_code=r.status_code)
    if (r.protocol, r.port, r.host, r.path, r.query) == (
        default.protocol, default.port, default.host, default.path, default.query,
    ):  # fmt: skip
        raise InvalidLoadBalancerAction(
            "The redirect configuration is not valid: it would redirect to the same URL"
        )
    return r


def _fixed(item: Wire) -> FixedResponse:
    config = item.get("FixedResponseConfig")
    if not config:
        raise ValidationError("A fixed-response action needs a FixedResponseConfig")
    status = str(config.get("StatusCode", ""))
    if not STATUS_RE.match(status):
        raise ValidationError(f"Fixed response status code '{status}' must be 2XX, 4XX or 5XX")
    content_type = config.get("ContentType")
    if content_type is not None and content_type not in CONTENT_TYPES:
        raise ValidationError(
            f"Fixed response content type '{content_type}' must be one of "
            f"{', '.join(CONTENT_TYPES)}"
        )
    body = config.get("MessageBody")
    if body is not None and len(body.encode()) > 1024:
        raise ValidationError("Fixed response message body can be at most 1024 bytes")
    return FixedResponse(status, content_type, body)


def parse_actions(items: Sequence[Wire], *, network: bool) -> list[Action]:
    if not items:
        raise ValidationError("At least one action must be specified")
    actions: list[Action] = []
    for item in items:
        kind = str(item.get("Type", ""))
        order = item.get("Order")
        action = Action(type=kind, order=int(order) if order is not None else None)
        if kind == ActionType.FORWARD:
            _forward(item, action)
        elif network:
            raise InvalidLoadBalancerAction(
                f"Action type '{kind}' is not supported by Network Load Balancers"
            )
        elif kind == ActionType.REDIRECT:
            action.redirect = _redirect(item)
        elif kind == ActionType.FIXED_RESPONSE:
            action.fixed_response = _fixed(item)
        else:
            raise InvalidLoadBalancerAction(
                f"Action type '{kind}' is not supported by Dockyard (it has no identity "
                "provider); use forward, redirect or fixed-response"
            )
        actions.append(action)
    terminal = [a for a in actions if a.type in TERMINAL]
    if len(terminal) != 1:
        raise InvalidLoadBalancerAction(
            "There must be exactly one forward, redirect or fixed-response action"
        )
    orders = [a.order for a in actions if a.order is not None]
    if len(set(orders)) != len(orders):
        raise ValidationError("Action orders must be unique")
    for o in orders:
        if not 1 <= o <= 50000:
            raise ValidationError(f"Action order '{o}' must be between 1 and 50000")
    return sorted(actions, key=lambda a: a.order if a.order is not None else 50001)


def action_to_wire(a: Action, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": a.type, "Order": a.order if a.order is not None else index + 1}
    if a.type == ActionType.FORWARD:
        groups = a.groups or [WeightedGroup(a.target_group_arn or "", 1)]
        if len(groups) == 1:
            out["TargetGroupArn"] = groups[0].target_group_arn
        out["ForwardConfig"] = {
            "TargetGroups": [
                {"TargetGroupArn": g.target_group_arn, "Weight": g.weight} for g in groups
            ],
            "TargetGroupStickinessConfig": (
                {"Enabled": True, "DurationSeconds": a.group_stickiness_seconds}
                if a.group_stickiness
                else {"Enabled": False}
            ),
        }
    elif a.redirect is not None:
        r = a.redirect
        out["RedirectConfig"] = {
            "Protocol": r.protocol, "Port": r.port, "Host": r.host, "Path": r.path,
            "Query": r.query, "StatusCode": r.status_code,
        }  # fmt: skip
    elif a.fixed_response is not None:
        f = a.fixed_response
        config: dict[str, Any] = {"StatusCode": f.status_code}
        if f.content_type is not None:
            config["ContentType"] = f.content_type
        if f.message_body is not None:
            config["MessageBody"] = f.message_body
        out["FixedResponseConfig"] = config
    return out


# Conditions


def _values(
    config: Wire | None, legacy: Sequence[str] | None, field: str
) -> tuple[list[str], bool]:
    if config is not None and legacy:
        raise ValidationError(
            f"A '{field}' condition cannot have both Values and a configuration block"
        )
    if config is not None:
        return [str(v) for v in config.get("Values") or []], False
    return [str(v) for v in legacy or []], True


def _condition(item: Wire) -> Condition:
    field = str(item.get("Field", ""))
    legacy = item.get("Values")
    if field == ConditionField.PATH_PATTERN:
        values, is_legacy = _values(item.get("PathPatternConfig"), legacy, field)
        for v in values:
            if len(v) > MAX_VALUE_LENGTH or not PATH_RE.match(v):
                raise ValidationError(f"Path pattern '{v}' is not valid")
        return Condition(field, values, legacy_values=is_legacy)
    if field == ConditionField.HOST_HEADER:
        values, is_legacy = _values(item.get("HostHeaderConfig"), legacy, field)
        for v in values:
            if len(v) > MAX_VALUE_LENGTH or not HOST_RE.match(v):
                raise ValidationError(f"Host header value '{v}' is not valid")
        return Condition(field, values, legacy_values=is_legacy)
    if legacy:
        raise ValidationError(
            f"Condition field '{field}' takes its values in its configuration block, not Values"
        )
    if field == ConditionField.HTTP_HEADER:
        config = item.get("HttpHeaderConfig") or {}
        name = str(config.get("HttpHeaderName") or "")
        if not name or not re.match(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$", name):
            raise ValidationError(f"HTTP header name '{name}' is not valid")
        values = [str(v) for v in config.get("Values") or []]
        for v in values:
            _value_length(v, "HTTP header value")
        return Condition(field, values, header_name=name)
    if field == ConditionField.HTTP_REQUEST_METHOD:
        values = [str(v) for v in (item.get("HttpRequestMethodConfig") or {}).get("Values") or []]
        for v in values:
            if not METHOD_RE.match(v):
                raise ValidationError(f"HTTP request method '{v}' is not valid")
        return Condition(field, values)
    if field == ConditionField.QUERY_STRING:
        pairs = [
            QueryPair(p.get("Key"), str(p.get("Value", "")))
            for p in (item.get("QueryStringConfig") or {}).get("Values") or []
        ]
        for p in pairs:
            if not p.value:
                raise ValidationError("A query string condition value cannot be empty")
            _value_length(p.value, "Query string value")
            if p.key is not None:
                _value_length(str(p.key), "Query string key")
        return Condition(field, [p.value for p in pairs], query=pairs)
    if field == ConditionField.SOURCE_IP:
        values = [str(v) for v in (item.get("SourceIpConfig") or {}).get("Values") or []]
        for v in values:
            try:
                ipaddress.ip_network(v, strict=False)
            except ValueError as exc:
                raise ValidationError(f"Source IP '{v}' is not a valid CIDR block") from exc
        return Condition(field, values)
    raise ValidationError(
        f"Condition field '{field}' must be one of {', '.join(f.value for f in ConditionField)}"
    )


def _value_length(value: str, what: str) -> None:
    if not value or len(value) > MAX_VALUE_LENGTH:
        raise ValidationError(
            f"{what} '{value}' is not valid: it must be 1 to {MAX_VALUE_LENGTH} characters long"
        )


def _wildcards(c: Condition) -> int:
    texts = [*c.values, *(str(p.key) for p in c.query if p.key is not None)]
    return sum(t.count("*") + t.count("?") for t in texts)


def parse_conditions(items: Sequence[Wire]) -> list[Condition]:
    if not items:
        raise ValidationError("A rule must have at least one condition")
    conditions = [_condition(i) for i in items]
    total = 0
    for c in conditions:
        if not c.values:
            raise ValidationError(f"A '{c.field}' condition needs at least one value")
        total += len(c.values)
    if total > MAX_CONDITION_VALUES:
        raise ValidationError(f"A rule can only have '{MAX_CONDITION_VALUES}' condition values")
    # Matching stays linear whatever the pattern (`core.wildcard`); the quota still holds.
    wildcards = sum(_wildcards(c) for c in conditions if c.field in WILDCARD_FIELDS)
    if wildcards > MAX_CONDITION_WILDCARDS:
        raise ValidationError(
            f"A rule can only have '{MAX_CONDITION_WILDCARDS}' wildcards in its conditions "
            f"(it has {wildcards})"
        )
    for field in FIELDS_ONCE:
        if sum(1 for c in conditions if c.field == field) > 1:
            raise ValidationError(f"A rule can have only one '{field}' condition")
    return conditions


def condition_to_wire(c: Condition) -> dict[str, Any]:
    out: dict[str, Any] = {"Field": c.field}
    if c.field == ConditionField.PATH_PATTERN:
        out["PathPatternConfig"] = {"Values": list(c.values)}
        out["Values"] = list(c.values)
    elif c.field == ConditionField.HOST_HEADER:
        out["HostHeaderConfig"] = {"Values": list(c.values)}
        out["Values"] = list(c.values)
    elif c.field == ConditionField.HTTP_HEADER:
        out["HttpHeaderConfig"] = {"HttpHeaderName": c.header_name, "Values": list(c.values)}
    elif c.field == ConditionField.HTTP_REQUEST_METHOD:
        out["HttpRequestMethodConfig"] = {"Values": list(c.values)}
    elif c.field == ConditionField.QUERY_STRING:
        out["QueryStringConfig"] = {
            "Values": [
                {"Key": q.key, "Value": q.value} if q.key is not None else {"Value": q.value}
                for q in c.query
            ]
        }
    elif c.field == ConditionField.SOURCE_IP:
        out["SourceIpConfig"] = {"Values": list(c.values)}
    return out
