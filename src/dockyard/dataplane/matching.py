"""Rule conditions compiled to predicates over a request, as ALB evaluates them: values of one
condition are alternatives, the conditions of a rule must all match. Wildcards are `*` (any
characters) and `?` (one character); paths and methods are case-sensitive, host names, header
values and query strings are not. Wildcards are matched in time linear in the request's value
(`core.wildcard`): a rule's pattern cannot make one request stall the listener."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from dockyard.core.wildcard import Matcher, compile_wildcard
from dockyard.dataplane.config import ConditionConfig


@dataclass(slots=True)
class RequestView:
    method: str
    path: str
    query: str
    host: str  # without the port, lower case
    headers: dict[str, str]  # lower-case names; repeated headers joined by ","
    client_ip: str


Predicate = Callable[[RequestView], bool]


def wildcard(pattern: str, ignore_case: bool) -> Matcher:
    return compile_wildcard(pattern, ignore_case)


def _any(patterns: Sequence[str], ignore_case: bool) -> Matcher:
    compiled = [wildcard(p, ignore_case) for p in patterns]
    if len(compiled) == 1:
        return compiled[0]
    return lambda value: any(match(value) for match in compiled)


def compile_condition(c: ConditionConfig) -> Predicate:
    if c.field == "path-pattern":
        test = _any(c.values, ignore_case=False)
        return lambda r: test(r.path)
    if c.field == "host-header":
        test = _any(c.values, ignore_case=True)
        return lambda r: test(r.host)
    if c.field == "http-header":
        test = _any(c.values, ignore_case=True)
        name = (c.header_name or "").lower()
        return lambda r: name in r.headers and test(r.headers[name])
    if c.field == "http-request-method":
        methods = frozenset(c.values)
        return lambda r: r.method in methods
    if c.field == "query-string":
        pairs = [(None if k is None else wildcard(k, True), wildcard(v, True)) for k, v in c.query]

        def query(r: RequestView) -> bool:
            items = parse_qsl(r.query, keep_blank_values=True)
            for key, value in pairs:
                for k, v in items:
                    if (key is None or key(k)) and value(v):
                        return True
            return False

        return query
    if c.field == "source-ip":
        networks = [ipaddress.ip_network(v, strict=False) for v in c.values]

        def source(r: RequestView) -> bool:
            try:
                address = ipaddress.ip_address(r.client_ip)
            except ValueError:
                return False
            return any(address in n for n in networks if n.version == address.version)

        return source
    raise ValueError(f"unknown condition field {c.field}")


def compile_rule(conditions: Sequence[ConditionConfig]) -> Predicate | None:
    """None for a rule that matches every request (the default rule)."""
    if not conditions:
        return None
    predicates = [compile_condition(c) for c in conditions]
    if len(predicates) == 1:
        return predicates[0]
    return lambda r: all(p(r) for p in predicates)
