"""ELBv2 input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.services.elbv2.errors import (
    DuplicateTagKeys,
    InvalidConfigurationRequest,
    InvalidTarget,
    TooManyTags,
    ValidationError,
)
from dockyard.services.elbv2.model import HealthCheck, Proto

MAX_TAGS = 50
NAME_RE = re.compile(r"^[A-Za-z0-9-]+$")
MATCHER_RE = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")


def _name(kind: str, value: str) -> str:
    if len(value) > 32:
        raise ValidationError(f"{kind} name cannot be longer than '32' characters")
    if not value or not NAME_RE.match(value):
        raise ValidationError(
            f"{kind} name '{value}' can only contain characters that are alphanumeric "
            "characters or hyphens(-)"
        )
    if value.startswith("-") or value.endswith("-"):
        raise ValidationError(f"{kind} name '{value}' cannot begin or end with '-' character")
    return value


def load_balancer_name(value: str) -> str:
    _name("Load balancer", value)
    if value.lower().startswith("internal-"):
        raise ValidationError(f"Load balancer name '{value}' cannot begin with 'internal-'")
    return value


def target_group_name(value: str) -> str:
    return _name("Target group", value)


def tags(items: Sequence[Mapping[str, Any]] | None, existing: int = 0) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key = str(item["Key"])
        if key in out:
            raise DuplicateTagKeys(f"Tag key '{key}' specified more than once")
        if key.lower().startswith("aws:"):
            raise ValidationError(f"Tag key '{key}' cannot start with 'aws:'")
        out[key] = str(item.get("Value", ""))
    if existing + len(out) > MAX_TAGS:
        raise TooManyTags(f"A resource can have at most {MAX_TAGS} tags")
    return out


def port(value: int, field: str = "Port") -> int:
    if not 1 <= value <= 65535:
        raise ValidationError(f"{field} '{value}' must be between 1 and 65535")
    return value


def matcher(value: str, protocol: str) -> str:
    value = value.replace(" ", "")
    if not MATCHER_RE.match(value):
        raise ValidationError(
            f"Health check matcher HTTP code '{value}' must be a code, a list of codes "
            "('200,202') or a range ('200-299')"
        )
    for part in value.split(","):
        low, _, high = part.partition("-")
        lo, hi = int(low), int(high or low)
        if lo > hi or not (200 <= lo <= 499 and 200 <= hi <= 499):
            raise ValidationError(
                f"Health check matcher HTTP code '{part}' must be within '200-499'"
            )
    return value


def matches(matcher_value: str, status: int) -> bool:
    for part in matcher_value.split(","):
        low, _, high = part.partition("-")
        if int(low) <= status <= int(high or low):
            return True
    return False


def health_check(hc: HealthCheck, tg_protocol: str | None) -> HealthCheck:
    if not 5 <= hc.interval <= 300:
        raise ValidationError(
            f"Health check interval '{hc.interval}' must be between 5 and 300 seconds"
        )
    if not 2 <= hc.timeout <= 120:
        raise ValidationError(f"Health check timeout '{hc.timeout}' must be between 2 and 120")
    if hc.timeout >= hc.interval:
        raise ValidationError(
            f"Health check timeout '{hc.timeout}' must be smaller than the interval '{hc.interval}'"
        )
    for field, value in (
        ("Healthy threshold", hc.healthy_threshold),
        ("Unhealthy threshold", hc.unhealthy_threshold),
    ):
        if not 2 <= value <= 10:
            raise ValidationError(f"{field} '{value}' must be between 2 and 10")
    if hc.port != "traffic-port":
        try:
            port(int(hc.port), "Health check port")
        except ValueError as exc:
            raise ValidationError(
                f"Health check port '{hc.port}' must be 'traffic-port' or a port number"
            ) from exc
    if hc.protocol not in (Proto.HTTP, Proto.HTTPS, Proto.TCP):
        raise ValidationError(
            f"Health check protocol '{hc.protocol}' is not supported by Dockyard "
            "(HTTP, HTTPS or TCP)"
        )
    if tg_protocol in (Proto.HTTP, Proto.HTTPS) and hc.protocol == Proto.TCP:
        raise ValidationError(
            f"Health check protocol 'TCP' is not supported for target groups with the "
            f"'{tg_protocol}' protocol"
        )
    if hc.protocol == Proto.TCP:
        if hc.path is not None:
            raise ValidationError("Health check path is not supported for the TCP protocol")
        if hc.matcher is not None:
            raise InvalidConfigurationRequest(
                "Health check matcher is not supported for the TCP health check protocol"
            )
    else:
        if hc.path is not None and (not hc.path.startswith("/") or len(hc.path) > 1024):
            raise ValidationError(
                f"Health check path '{hc.path}' must begin with a '/' and be at most 1024 "
                "characters"
            )
        if hc.matcher is not None:
            matcher(hc.matcher, hc.protocol)
    return hc


def ip_target(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError as exc:
        raise InvalidTarget(
            f"The IP address '{value}' is not a valid IPv4 or IPv6 address"
        ) from exc
    if not (address.is_private or address.is_loopback or address.is_link_local):
        raise InvalidTarget(
            f"The IP address '{value}' is not a private address (RFC 1918, RFC 6598, "
            "loopback or link-local)"
        )
    return value


BOOL = ("true", "false")


def rule_priorities(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """SetRulePriorities' (RuleArn, Priority) pairs; the model leaves both optional."""
    pairs: list[tuple[str, int]] = []
    for i, item in enumerate(items, 1):
        for key in ("RuleArn", "Priority"):
            if item.get(key) is None:
                raise ValidationError(f"A rule ARN and a priority must be specified "
                                      f"(RulePriorities.member.{i}.{key})")  # fmt: skip
        pairs.append((item["RuleArn"], int(item["Priority"])))
    return pairs


def _int_in(key: str, value: str, lo: int, hi: int) -> None:
    if not value.isdigit() or not lo <= int(value) <= hi:
        raise ValidationError(f"'{key}' must be an integer between {lo} and {hi}")


def _one_of(key: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValidationError(f"'{key}' must be one of: {', '.join(allowed)}")


def attribute(key: str, value: str, known: Mapping[str, str]) -> None:
    """A load balancer or target group attribute: its key known and its value in range."""
    if key not in known:
        raise ValidationError(f"Attribute key '{key}' is not recognized")
    if key.endswith(".enabled") and key != "load_balancing.cross_zone.enabled":
        _one_of(key, value, BOOL)
    elif key == "load_balancing.cross_zone.enabled":
        allowed = ("true", "false", "use_load_balancer_configuration")
        _one_of(key, value, allowed if known[key] == allowed[2] else BOOL)
    elif key == "deregistration_delay.timeout_seconds":
        _int_in(key, value, 0, 3600)
    elif key == "slow_start.duration_seconds":
        if value != "0":
            _int_in(key, value, 30, 900)
    elif key in ("stickiness.lb_cookie.duration_seconds", "stickiness.app_cookie.duration_seconds"):
        _int_in(key, value, 1, 604800)
    elif key == "stickiness.type":
        http = known.get("stickiness.type") == "lb_cookie"
        _one_of(key, value, ("lb_cookie", "app_cookie") if http else ("source_ip",))
    elif key == "load_balancing.algorithm.type":
        _one_of(key, value, ("round_robin", "least_outstanding_requests", "weighted_random"))
    elif key == "load_balancing.algorithm.anomaly_mitigation":
        _one_of(key, value, ("on", "off"))
    elif key == "idle_timeout.timeout_seconds":
        _int_in(key, value, 1, 4000)
    elif key == "client_keep_alive.seconds":
        _int_in(key, value, 60, 604800)
    elif key == "routing.http.desync_mitigation_mode":
        _one_of(key, value, ("monitor", "defensive", "strictest"))
    elif key == "routing.http.xff_header_processing.mode":
        _one_of(key, value, ("append", "preserve", "remove"))
    elif key == "stickiness.app_cookie.cookie_name" and value.startswith("AWSALB"):
        raise ValidationError(f"'{key}' cannot start with AWSALB, AWSALBAPP or AWSALBTG (reserved)")


def attributes(items: Sequence[Mapping[str, Any]], known: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, value = str(item.get("Key", "")), str(item.get("Value", ""))
        attribute(key, value, known)
        out[key] = value
    return out
