"""Which service and operation a request is for, in which protocol."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dockyard.api.auth import SigV4
from dockyard.api.http import HttpRequest
from dockyard.api.models import ModelCatalog, ServiceInfo
from dockyard.api.restroutes import RestTable
from dockyard.core.errors import ServiceError

REST = ("rest-json", "rest-xml")
QUERY = ("query", "ec2")
_SMITHY_PREFIX = "/service/"


@dataclass(frozen=True, slots=True)
class Route:
    service: ServiceInfo
    operation: str
    protocol: str
    labels: dict[str, str] = field(default_factory=dict)


class RoutingError(ServiceError):
    """A request that names no known operation. `protocol` is the best guess at the
    protocol the client speaks, so the error can be answered in it."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int,
        protocol: str,
        service: ServiceInfo | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.protocol = protocol
        self.service = service


class Router:
    def __init__(self, catalog: ModelCatalog, served: Iterable[str]) -> None:
        self.catalog = catalog
        self.served = tuple(served)
        self._targets: dict[str, Route] = {}
        self._smithy: dict[str, Route] = {}
        self._rest_tables: dict[str, RestTable] = {}

    # -- entry point ------------------------------------------------------------------------

    def route(self, req: HttpRequest, sig: SigV4 | None) -> Route:
        target = req.headers.get("x-amz-target")
        if target is not None:
            return self._route_target(target)
        if req.path.startswith(_SMITHY_PREFIX) and (
            "smithy-protocol" in req.headers or "/operation/" in req.path
        ):
            return self._route_smithy(req.path)
        if (
            req.method in ("POST", "GET")
            and ((req.is_form and req.method == "POST") or "Action=" in req.query_string)
            and "Action" in req.form
        ):
            return self._route_query(req, sig)
        if req.method == "POST" and req.is_form and self._candidates(sig, QUERY):
            raise RoutingError(
                "The request must contain the parameter Action.",
                code="MissingAction",
                status=400,
                protocol="query",
            )
        return self._route_rest(req, sig)

    # -- json: X-Amz-Target ----------------------------------------------------------------

    def _route_target(self, target: str) -> Route:
        route = self._targets.get(target)
        if route is not None:
            return route
        prefix, _, operation = target.rpartition(".")
        info = self.catalog.by_target_prefix(prefix) if prefix else None
        if info is None or "json" not in info.protocols:
            raise RoutingError(
                f"Unable to determine service/operation name to be authorized: {target}",
                code="UnknownOperationException",
                status=400,
                protocol="json",
            )
        if operation not in self.catalog.service_model(info.name).operation_names:
            raise RoutingError(
                f"Operation {operation} is not known to {info.name}",
                code="UnknownOperationException",
                status=400,
                protocol="json",
                service=info,
            )
        route = Route(info, operation, "json")
        self._targets[target] = route
        return route

    # -- smithy-rpc-v2-cbor ------------------------------------------------------------------

    def _route_smithy(self, path: str) -> Route:
        route = self._smithy.get(path)
        if route is not None:
            return route
        parts = path.split("/")
        # ['', 'service', Name, 'operation', Op]
        info = None
        if len(parts) == 5 and parts[3] == "operation":
            info = self.catalog.by_target_prefix(parts[2])
        if info is None or "smithy-rpc-v2-cbor" not in info.protocols:
            raise RoutingError(
                f"No service speaking rpc-v2-cbor at {path}",
                code="UnknownOperationException",
                status=404,
                protocol="smithy-rpc-v2-cbor",
            )
        operation = parts[4]
        if operation not in self.catalog.service_model(info.name).operation_names:
            raise RoutingError(
                f"Operation {operation} is not known to {info.name}",
                code="UnknownOperationException",
                status=404,
                protocol="smithy-rpc-v2-cbor",
                service=info,
            )
        route = Route(info, operation, "smithy-rpc-v2-cbor")
        self._smithy[path] = route
        return route

    # -- candidates from the credential scope ------------------------------------------------

    def _candidates(self, sig: SigV4 | None, protocols: tuple[str, ...]) -> list[ServiceInfo]:
        if sig is not None:
            infos: Iterable[ServiceInfo] = self.catalog.by_signing_name(sig.service)
        else:
            infos = [i for i in (self.catalog.info(s) for s in self.served) if i is not None]
        return [i for i in infos if any(p in protocols for p in i.protocols)]

    # -- query: Action= ------------------------------------------------------------------------

    def _route_query(self, req: HttpRequest, sig: SigV4 | None) -> Route:
        form = req.form
        action = form.get("Action", "")
        version = form.get("Version")
        candidates = self._candidates(sig, QUERY)
        if version is not None and len(candidates) > 1:
            exact = [i for i in candidates if i.api_version == version]
            candidates = exact or candidates
        for info in candidates:
            if action in self.catalog.service_model(info.name).operation_names:
                protocol = "ec2" if "ec2" in info.protocols else "query"
                return Route(info, action, protocol)
        raise RoutingError(
            f"The action {action} is not valid for this web service.",
            code="InvalidAction",
            status=400,
            protocol="query",
            service=candidates[0] if candidates else None,
        )

    # -- rest-json / rest-xml: method + path --------------------------------------------------

    def rest_table(self, service: str) -> RestTable:
        table = self._rest_tables.get(service)
        if table is None:
            table = RestTable(self.catalog.service_model(service))
            self._rest_tables[service] = table
        return table

    def _route_rest(self, req: HttpRequest, sig: SigV4 | None) -> Route:
        candidates = self._candidates(sig, REST)
        best: Route | None = None
        best_score: tuple[int, int, int] | None = None
        for info in candidates:
            found = self.rest_table(info.name).match(req.method, req.path, req.query, req.headers)
            if found is None:
                continue
            rest_route, labels = found
            if best_score is None or rest_route.score > best_score:
                protocol = next(p for p in info.protocols if p in REST)
                best = Route(info, rest_route.operation, protocol, labels)
                best_score = rest_route.score
        if best is not None:
            return best
        guess = next((p for i in candidates for p in i.protocols if p in REST), "rest-json")
        if sig is None and not candidates:
            raise RoutingError(
                "Request is missing Authentication Token; the service cannot be determined",
                code="MissingAuthenticationToken",
                status=403,
                protocol="rest-json",
            )
        raise RoutingError(
            f"No operation matches {req.method} {req.path}",
            code="UnknownOperationException",
            status=404,
            protocol=guess,
            service=candidates[0] if candidates else None,
        )
