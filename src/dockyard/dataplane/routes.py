"""A listener's compiled routing: rules in order, each a predicate and an action; and the
responses the load balancer itself makes (errors, fixed responses, redirects)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import formatdate

from dockyard.dataplane.balancer import WeightedChoice
from dockyard.dataplane.config import (
    FixedResponse,
    Forward,
    ListenerConfig,
    Redirect,
)
from dockyard.dataplane.matching import Predicate, RequestView, compile_rule
from dockyard.dataplane.metrics import LoadBalancerCounters

REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
    413: "Payload Too Large", 429: "Too Many Requests", 460: "Client Closed Request",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Temporarily Unavailable", 504: "Gateway Time-out",
}  # fmt: skip

_date_cache: tuple[int, bytes] = (0, b"")


def http_date() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


def elb_response(
    status: int,
    body: bytes | None = None,
    content_type: str = "text/html",
    extra: list[tuple[str, str]] | None = None,
    close: bool = False,
) -> bytes:
    """A response the load balancer makes itself (Server: awselb/2.0, as ALB answers)."""
    reason = REASONS.get(status, "Unknown")
    if body is None:
        title = f"{status} {reason}"
        body = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
        ).encode()
    lines = [
        f"HTTP/1.1 {status} {reason}".encode(),
        b"Server: awselb/2.0",
        b"Date: " + http_date(),
        f"Content-Type: {content_type}".encode(),
        f"Content-Length: {len(body)}".encode(),
    ]
    for name, value in extra or []:
        lines.append(f"{name}: {value}".encode())
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@dataclass(slots=True)
class ForwardRuntime:
    chooser: WeightedChoice
    group_stickiness: int | None  # seconds, when the weighted forward is sticky
    weighted: bool


RouteAction = ForwardRuntime | FixedResponse | Redirect


class Routes:
    def __init__(self, config: ListenerConfig) -> None:
        self.config = config
        self.rules: list[tuple[Predicate | None, RouteAction]] = []
        for rule in config.rules:
            action: RouteAction
            if isinstance(rule.action, Forward):
                action = ForwardRuntime(
                    WeightedChoice(rule.action.groups),
                    rule.action.stickiness_seconds,
                    len(rule.action.groups) > 1,
                )
            else:
                action = rule.action
            self.rules.append((compile_rule(rule.conditions), action))
        # Only the default rule: no need to look at the request.
        self.trivial = len(self.rules) == 1 and self.rules[0][0] is None

    def match(self, request: RequestView | None) -> RouteAction | None:
        for predicate, action in self.rules:
            if predicate is None or (request is not None and predicate(request)):
                return action
        return None


def redirect_location(r: Redirect, scheme: str, host: str, port: int, path: str, query: str) -> str:
    values = {
        "#{protocol}": scheme.upper(),
        "#{host}": host,
        "#{port}": str(port),
        "#{path}": path.lstrip("/"),
        "#{query}": query,
    }

    def fill(template: str) -> str:
        for key, value in values.items():
            template = template.replace(key, value)
        return template

    protocol = fill(r.protocol).lower()
    out_port = fill(r.port)
    default = (protocol == "http" and out_port == "80") or (
        protocol == "https" and out_port == "443"
    )
    location = f"{protocol}://{fill(r.host)}"
    if not default:
        location += f":{out_port}"
    location += fill(r.path)
    out_query = fill(r.query)
    if out_query:
        location += f"?{out_query}"
    return location


def lb_counters_for(counters: dict[str, LoadBalancerCounters], lb_id: str) -> LoadBalancerCounters:
    found = counters.get(lb_id)
    if found is None:
        found = counters[lb_id] = LoadBalancerCounters()
    return found
