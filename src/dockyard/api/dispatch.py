"""The request path: route, authenticate, parse, validate, dispatch, serialize."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Sequence
from urllib.parse import unquote

from dockyard.api.auth import SigV4, identify, parse_sigv4
from dockyard.api.config import FrontDoorConfig
from dockyard.api.context import RequestContext
from dockyard.api.errors import InternalError, ServiceUnavailable, UnsupportedOperation
from dockyard.api.http import HttpRequest, HttpResponse
from dockyard.api.limits import Disconnected
from dockyard.api.models import ModelCatalog, ServiceInfo
from dockyard.api.protocols.base import Codec
from dockyard.api.protocols.cbor import CborCodec
from dockyard.api.protocols.json import JsonCodec
from dockyard.api.protocols.query import Ec2Codec, QueryCodec
from dockyard.api.protocols.rest import RestJsonCodec, RestXmlCodec
from dockyard.api.provider import Provider
from dockyard.api.router import QUERY, REST, Route, Router, RoutingError
from dockyard.api.streaming import RequestBody
from dockyard.api.validate import validate
from dockyard.core.errors import ServiceError
from dockyard.store.base import is_unavailable

log = logging.getLogger(__name__)

CODECS: dict[str, Codec] = {
    "json": JsonCodec(),
    "query": QueryCodec(),
    "ec2": Ec2Codec(),
    "rest-json": RestJsonCodec(),
    "rest-xml": RestXmlCodec(),
    "smithy-rpc-v2-cbor": CborCodec(),
}


# S3 operations whose request body is streamed to the handler, never read whole.
STREAMED_OPERATIONS = frozenset({"PutObject", "UploadPart"})


class FrontDoor:
    def __init__(
        self, config: FrontDoorConfig, providers: Sequence[Provider], catalog: ModelCatalog
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.providers = {p.service: p for p in providers}
        self.router = Router(catalog, self.providers)

    def guess(self, req: HttpRequest, sig: SigV4 | None) -> tuple[str, ServiceInfo | None]:
        """The protocol (and service) a request speaks, from its headers alone: how to answer
        an error found before the body is read and the request routed."""
        target = req.headers.get("x-amz-target")
        if target is not None:
            return "json", self.catalog.by_target_prefix(target.rpartition(".")[0])
        if req.path.startswith("/service/") and (
            "smithy-protocol" in req.headers or "/operation/" in req.path
        ):
            return "smithy-rpc-v2-cbor", None
        infos = self.catalog.by_signing_name(sig.service) if sig is not None else ()
        if req.is_form or "Action=" in req.query_string:
            for info in infos:
                if "ec2" in info.protocols:
                    return "ec2", info
                if "query" in info.protocols:
                    return "query", info
            return "query", None
        for info in infos:
            for protocol in info.protocols:
                if protocol in REST or protocol in QUERY:
                    return protocol, info
        return "rest-json", None

    def preflight(self, req: HttpRequest) -> HttpResponse | None:
        """A browser's CORS preflight (OPTIONS) for an S3 bucket, answered from its rules;
        None when no served service answers preflights."""
        provider = self.providers.get("s3")
        if provider is None or provider.preflight is None:
            return None
        info = self.catalog.info("s3")
        request_id = str(uuid.uuid4())
        bucket = unquote(req.path.lstrip("/").split("/", 1)[0])
        try:
            headers = provider.preflight(bucket, req.headers)
        except ServiceError as err:
            return CODECS["rest-xml"].error(err, info, None, request_id)
        return HttpResponse(200, [("x-amz-request-id", request_id), *headers])

    def error(self, err: ServiceError, req: HttpRequest, sig: SigV4 | None) -> HttpResponse:
        """`err` answered in the protocol the request seems to speak (before routing)."""
        protocol, info = self.guess(req, sig)
        return CODECS[protocol].error(err, info, None, str(uuid.uuid4()))

    def streaming_route(self, req: HttpRequest, sig: SigV4 | None) -> Route | None:
        """The route of a request whose body goes to its handler as a stream (S3 object
        uploads), decided from the headers alone; None for every other request."""
        try:
            route = self.router.route(req, sig)
        except RoutingError:
            return None
        if route.service.name == "s3" and route.operation in STREAMED_OPERATIONS:
            return route
        return None

    async def handle(
        self,
        req: HttpRequest,
        sig: SigV4 | None = None,
        *,
        route: Route | None = None,
        body: RequestBody | None = None,
    ) -> HttpResponse:
        """Route, parse, validate, dispatch, serialize. The caller has authenticated the
        request (DockyardApp, before and after reading the body). The streaming path passes
        its `route` and the `body` still to be read: both paths share all of this."""
        request_id = str(uuid.uuid4())
        if sig is None:
            sig = parse_sigv4(req)
        try:
            if route is None:
                route = self.router.route(req, sig)
        except RoutingError as err:
            return CODECS[err.protocol].error(err, err.service, None, request_id)
        codec = CODECS[route.protocol]
        info = route.service
        operation = route.operation
        try:
            provider = self.providers.get(info.name)
            handler = provider.handlers.get(operation) if provider is not None else None
            if provider is None or handler is None:
                raise UnsupportedOperation(f"Dockyard does not support {info.name}:{operation} yet")
            identity = identify(
                sig,
                self.config.default_account_id,
                self.config.default_region,
                self.config.accounts,
            )
            op = self.catalog.operation_model(info.name, operation)
            params = codec.parse(req, op, route)
            validate(op.input_shape, params, provider.validation_error_code)
            # AUTHORIZATION goes here (FrontDoor.authorize, after parse, before dispatch): it
            # then covers the streaming S3 path too, whose body is not read yet at this point.
            ctx = RequestContext(
                service=info.name,
                operation=operation,
                account_id=identity.account_id,
                region=identity.region,
                request_id=request_id,
                protocol=route.protocol,
                access_key_id=identity.access_key_id,
                headers=req.headers,
                body=body,
                query=req.query,
            )
            result = handler(ctx, params)
            if inspect.isawaitable(result):
                result = await result
            response = codec.serialize(op, result or {}, info, request_id)
            if provider.cors is not None and "origin" in req.headers and "Bucket" in params:
                response.headers.extend(provider.cors(params["Bucket"], req.method, req.headers))
            return response
        except ServiceError as err:
            return codec.error(err, info, operation, request_id)
        except Disconnected:
            raise  # the client of a streamed body went away: nothing to answer
        except Exception as exc:
            if is_unavailable(exc):
                log.warning(
                    "%s:%s answered unavailable: %s",
                    info.name,
                    operation,
                    exc,
                    extra={"request_id": request_id},
                )
                unavailable = ServiceUnavailable(
                    "The service cannot store the change right now; nothing was changed. "
                    "Please try again."
                )
                return codec.error(unavailable, info, operation, request_id)
            log.exception(
                "internal failure in %s:%s",
                info.name,
                operation,
                extra={"request_id": request_id},
            )
            internal = InternalError("We encountered an internal error. Please try again.")
            return codec.error(internal, info, operation, request_id)
