"""Rule conditions compiled to predicates over a request, as ALB evaluates them: values of one
condition are alternatives, the conditions of a rule must all match. Wildcards are `*` (any
characters) and `?` (one character); paths and methods are case-sensitive, host names, header
values and query strings are not."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl

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


@lru_cache(maxsize=4096)
def wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _any(patterns: Sequence[str], ignore_case: bool) -> Callable[[str], bool]:
    compiled = [wildcard(p, ignore_case) for p in patterns]
    if len(compiled) == 1:
        match = compiled[0].match
        return lambda value: match(value) is not None
    return lambda value: any(c.match(value) for c in compiled)


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
                    if (key is None or key.match(k)) and value.match(v):
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
