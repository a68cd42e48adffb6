"""Route tables for the rest protocols: method + requestUri templates of a service model."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class RestRoute:
    operation: str
    regex: re.Pattern[str]
    labels: tuple[str, ...]  # label names in group order ("Key", without "+")
    query_required: tuple[tuple[str, str | None], ...]
    score: tuple[int, int, int]
    headers_required: tuple[str, ...] = ()

    def match(
        self, path: str, query: list[tuple[str, str]], headers: Mapping[str, str] | None = None
    ) -> dict[str, str] | None:
        m = self.regex.match(path)
        if m is None:
            return None
        for name in self.headers_required:
            if headers is None or name not in headers:
                return None
        for name, value in self.query_required:
            if not any(k == name and (value is None or v == value) for k, v in query):
                return None
        return {label: unquote(g) for label, g in zip(self.labels, m.groups(), strict=True)}


def compile_route(
    operation: str,
    request_uri: str,
    query_members: tuple[tuple[str, str | None], ...] = (),
    headers_required: tuple[str, ...] = (),
) -> RestRoute:
    path, _, qs = request_uri.partition("?")
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    pattern: list[str] = ["^"]
    labels: list[str] = []
    literal = 0
    greedy = 0
    pos = 0
    for m in _LABEL.finditer(path):
        text = path[pos : m.start()]
        pattern.append(re.escape(text))
        literal += len(text)
        name = m.group(1)
        if name.endswith("+"):
            greedy += 1
            labels.append(name[:-1])
            pattern.append("(.+)")
        else:
            labels.append(name)
            pattern.append("([^/]+)")
        pos = m.end()
    tail = path[pos:]
    literal += len(tail)
    pattern.append(re.escape(tail))
    pattern.append("/?$" if path != "/" else "$")
    required: list[tuple[str, str | None]] = []
    for part in qs.split("&") if qs else ():
        key, eq, value = part.partition("=")
        required.append((key, value if eq else None))
    required.extend(r for r in query_members if r not in required)
    return RestRoute(
        operation=operation,
        regex=re.compile("".join(pattern)),
        labels=tuple(labels),
        query_required=tuple(required),
        score=(literal, len(required) + len(headers_required), -greedy),
        headers_required=headers_required,
    )


def _required_locations(
    op: OperationModel,
) -> tuple[tuple[tuple[str, str | None], ...], tuple[str, ...]]:
    """Required members bound to the query string or a header: a request without them
    is not for this operation (S3: PutObject vs CopyObject vs UploadPart)."""
    shape = op.input_shape
    if shape is None:
        return (), ()
    query: list[tuple[str, str | None]] = []
    headers: list[str] = []
    for name in shape.required_members:
        member = shape.members[name]
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "querystring":
            query.append((wire, None))
        elif location == "header":
            headers.append(wire.lower())
    return tuple(query), tuple(headers)


class RestTable:
    """The operations of one rest service, by HTTP method, most specific first."""

    def __init__(self, model: ServiceModel) -> None:
        by_method: dict[str, list[RestRoute]] = {}
        current = {
            (op.http.get("method"), op.http.get("requestUri"))
            for op in map(model.operation_model, model.operation_names)
            if not op.deprecated
        }
        for name in model.operation_names:
            op = model.operation_model(name)
            http = op.http
            if op.deprecated and (http.get("method"), http.get("requestUri")) in current:
                # A deprecated operation (S3 PutBucketLifecycle) shares its request with its
                # successor (PutBucketLifecycleConfiguration): the request is the successor's.
                continue
            query, headers = _required_locations(op)
            route = compile_route(name, http.get("requestUri", "/"), query, headers)
            by_method.setdefault(http.get("method", "POST").upper(), []).append(route)
        self.by_method = {
            method: tuple(sorted(routes, key=lambda r: r.score, reverse=True))
            for method, routes in by_method.items()
        }

    def match(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> tuple[RestRoute, dict[str, str]] | None:
        for route in self.by_method.get(method, ()):
            labels = route.match(path, query, headers)
            if labels is not None:
                return route, labels
        return None
