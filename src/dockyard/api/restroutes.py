"""Route tables for the rest protocols: method + requestUri templates of a service model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from botocore.model import ServiceModel

_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True, slots=True)
class RestRoute:
    operation: str
    regex: re.Pattern[str]
    labels: tuple[str, ...]  # label names in group order ("Key", without "+")
    query_required: tuple[tuple[str, str | None], ...]
    score: tuple[int, int, int]

    def match(
        self, path: str, query: list[tuple[str, str]]
    ) -> dict[str, str] | None:
        m = self.regex.match(path)
        if m is None:
            return None
        for name, value in self.query_required:
            if not any(k == name and (value is None or v == value) for k, v in query):
                return None
        return {label: unquote(g) for label, g in zip(self.labels, m.groups(), strict=True)}


def compile_route(operation: str, request_uri: str) -> RestRoute:
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
    return RestRoute(
        operation=operation,
        regex=re.compile("".join(pattern)),
        labels=tuple(labels),
        query_required=tuple(required),
        score=(literal, len(required), -greedy),
    )


class RestTable:
    """The operations of one rest service, by HTTP method, most specific first."""

    def __init__(self, model: ServiceModel) -> None:
        by_method: dict[str, list[RestRoute]] = {}
        for name in model.operation_names:
            http = model.operation_model(name).http
            uri = http.get("requestUri", "/")
            route = compile_route(name, uri)
            by_method.setdefault(http.get("method", "POST").upper(), []).append(route)
        self.by_method = {
            method: tuple(sorted(routes, key=lambda r: r.score, reverse=True))
            for method, routes in by_method.items()
        }

    def match(
        self, method: str, path: str, query: list[tuple[str, str]]
    ) -> tuple[RestRoute, dict[str, str]] | None:
        for route in self.by_method.get(method, ()):
            labels = route.match(path, query)
            if labels is not None:
                return route, labels
        return None
