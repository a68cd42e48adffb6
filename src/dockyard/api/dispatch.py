"""The request path: route, authenticate, parse, validate, dispatch, serialize."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from dockyard.api.access import Access, AccessRequest
from dockyard.api.auth import SigV4, identify, parse_sigv4
from dockyard.api.authorize import Authorizer, base_context
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
from dockyard.core.clock import RealClock
from dockyard.core.errors import ServiceError
from dockyard.core.iampolicy import Decision, Policy
from dockyard.core.principals import Permissions, Principal, SigningKey, root_principal
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
        self.authorizer = Authorizer(config.policies) if config.policies is not None else None
        self.clock = RealClock()

    @property
    def enforcing(self) -> bool:
        """Whether requests are authorized (the server has an auth file)."""
        return self.config.credentials is not None and self.authorizer is not None

    def accesses(
        self, provider: Provider, account_id: str, region: str, operation: str, params: Any
    ) -> list[Access]:
        """The (action, resource) pairs an operation with these parameters acts on."""
        if provider.access is not None:
            try:
                found = provider.access(AccessRequest(account_id, region, operation, params))
            except Exception:  # a gap in a service's table: authorize the action on `*`
                log.exception("no resources for %s:%s", provider.service, operation)
                found = ()
            if found:
                return list(found)
        return [Access(f"{provider.prefix}:{operation}", "*")]

    def context(
        self,
        principal: Principal,
        permissions: Permissions,
        *,
        region: str,
        source_ip: str | None = None,
        secure: bool = False,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, list[str]]:
        """The global condition keys of a request by `principal`."""
        return base_context(
            principal,
            permissions,
            source_ip=source_ip,
            secure=secure,
            region=region,
            now=self.clock.now(),
            params=params,
        )

    def authorize(
        self,
        principal: Principal,
        accesses: Sequence[Access],
        context: Mapping[str, Sequence[str]],
        protocol: str = "json",
        resource_policy: Policy | None = None,
    ) -> None:
        """Raise AWS's access-denied error (in `protocol`'s words) unless `principal` may do
        every (action, resource) of `accesses`; a no-op when the server does not enforce.
        `resource_policy` (a bucket policy) is evaluated with the identity-based policies.
        Paths that bypass `handle` (streaming uploads) call this themselves."""
        if not self.enforcing or self.authorizer is None:
            return
        self.authorizer.check(
            principal, accesses, context, protocol, resource_policy=resource_policy
        )

    def decide(
        self,
        principal: Principal,
        access: Access,
        context: Mapping[str, Sequence[str]],
        resource_policy: Policy | None = None,
    ) -> Decision | None:
        """The evaluator's decision for one pair (None: the account root, allowed)."""
        if self.authorizer is None:
            return None
        permissions = self.authorizer.permissions(principal)
        return self.authorizer.decide(principal, access, context, permissions, resource_policy)

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
        signer: SigningKey | None = None,
        source_ip: str | None = None,
        secure: bool = False,
        route: Route | None = None,
        body: RequestBody | None = None,
    ) -> HttpResponse:
        """Route, parse, validate, authorize, dispatch, serialize. The caller has
        authenticated the request (DockyardApp, before and after reading the body) and
        passes the key that signed it. The streaming path passes its `route` and the `body`
        still to be read: both paths share all of this, authorization included."""
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
            if signer is not None:
                principal = signer.principal
            else:
                principal = root_principal(identity.account_id, identity.access_key_id or "")
            op = self.catalog.operation_model(info.name, operation)
            params = codec.parse(req, op, route)
            validate(op.input_shape, params, provider.validation_error_code)
            if (
                self.enforcing
                and self.authorizer is not None
                and not principal.is_root
                and operation not in provider.self_authorized
            ):
                permissions = self.authorizer.permissions(principal)
                accesses = self.accesses(
                    provider, principal.account_id, identity.region, operation, params
                )
                context = self.context(
                    principal,
                    permissions,
                    region=identity.region,
                    source_ip=source_ip,
                    secure=secure,
                    params=params,
                )
                resource_policy = (
                    provider.resource_policy(
                        AccessRequest(principal.account_id, identity.region, operation, params)
                    )
                    if provider.resource_policy is not None
                    else None
                )
                self.authorizer.check(
                    principal,
                    accesses,
                    context,
                    route.protocol,
                    permissions=permissions,
                    resource_policy=resource_policy,
                )
            ctx = RequestContext(
                service=info.name,
                operation=operation,
                account_id=principal.account_id,
                region=identity.region,
                request_id=request_id,
                protocol=route.protocol,
                access_key_id=identity.access_key_id,
                headers=req.headers,
                principal=principal,
                source_ip=source_ip,
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
