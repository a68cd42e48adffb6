"""CORS: the bucket's rules answer browsers' preflight (OPTIONS) requests and add the
Access-Control-* headers to actual requests from an allowed origin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.core.wildcard import compile_wildcard
from dockyard.services.s3.errors import AccessForbidden, NoSuchBucket
from dockyard.services.s3.state import S3State

Headers = list[tuple[str, str]]


def _match(patterns: list[str], value: str, ignore_case: bool = False) -> bool:
    # One '*' at most in an origin (S3's rule); matched in linear time.
    return any(compile_wildcard(p, ignore_case=ignore_case, single=False)(value) for p in patterns)


def matching_rule(
    rules: list[dict[str, Any]], origin: str, method: str, request_headers: list[str]
) -> dict[str, Any] | None:
    for rule in rules:
        if not _match(rule.get("AllowedOrigins", []), origin):
            continue
        if method not in rule.get("AllowedMethods", []):
            continue
        allowed = rule.get("AllowedHeaders", [])
        if all(_match(allowed, h, ignore_case=True) for h in request_headers):
            return rule
    return None


def response_headers(rule: dict[str, Any], origin: str, preflight: bool) -> Headers:
    star = rule.get("AllowedOrigins") == ["*"]
    headers: Headers = [("Access-Control-Allow-Origin", "*" if star else origin)]
    if not star:
        headers.append(
            ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
        )
        headers.append(("Access-Control-Allow-Credentials", "true"))
    headers.append(("Access-Control-Allow-Methods", ", ".join(rule.get("AllowedMethods", []))))
    if rule.get("ExposeHeaders"):
        headers.append(("Access-Control-Expose-Headers", ", ".join(rule["ExposeHeaders"])))
    if preflight and "MaxAgeSeconds" in rule:
        headers.append(("Access-Control-Max-Age", str(rule["MaxAgeSeconds"])))
    return headers


class Cors:
    def __init__(self, state: S3State) -> None:
        self.state = state

    def preflight(self, bucket: str, headers: Mapping[str, str]) -> Headers:
        """The answer to an OPTIONS request; AccessForbidden (403) when no rule allows it."""
        found = self.state.buckets.get(bucket)
        if found is None:
            raise NoSuchBucket("The specified bucket does not exist")
        origin = headers.get("origin")
        method = headers.get("access-control-request-method")
        if origin is None or method is None:
            raise AccessForbidden(
                "Insufficient information. Origin request header needed."
                if origin is None
                else "Invalid Access-Control-Request-Method: null"
            )
        if not found.cors:
            raise AccessForbidden("CORSResponse: CORS is not enabled for this bucket.")
        wanted = [
            h.strip().lower()
            for h in headers.get("access-control-request-headers", "").split(",")
            if h.strip()
        ]
        rule = matching_rule(found.cors, origin, method, wanted)
        if rule is None:
            raise AccessForbidden(
                "CORSResponse: This CORS request is not allowed. This is usually because the "
                "evalution of Origin, request method / Access-Control-Request-Method or "
                "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
            )
        out = response_headers(rule, origin, preflight=True)
        if wanted:
            out.append(("Access-Control-Allow-Headers", ", ".join(wanted)))
        return out

    def actual(self, bucket: str, method: str, headers: Mapping[str, str]) -> Headers:
        """Access-Control-* headers for a request from an allowed origin (else none)."""
        origin = headers.get("origin")
        found = self.state.buckets.get(bucket)
        if origin is None or found is None or not found.cors:
            return []
        rule = matching_rule(found.cors, origin, method, [])
        return [] if rule is None else response_headers(rule, origin, preflight=False)
