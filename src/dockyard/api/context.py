"""What the front door knows of a request once it has been identified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockyard.core.principals import Principal
from dockyard.core.scope import Scope

if TYPE_CHECKING:
    from dockyard.api.streaming import RequestBody


@dataclass(slots=True)
class RequestContext:
    service: str  # botocore service name: "ecs", "logs", "elbv2", ...
    operation: str  # "CreateCluster"
    account_id: str
    region: str
    request_id: str
    protocol: str = "json"  # json | query | rest-json | rest-xml | smithy-rpc-v2-cbor
    access_key_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Who signed (the account root when the server runs without an auth file).
    principal: Principal | None = None
    source_ip: str | None = None
    # A body streamed to the handler rather than read whole (S3 PutObject, UploadPart).
    body: RequestBody | None = None
    query: list[tuple[str, str]] = field(default_factory=list)


def scope_of(ctx: RequestContext) -> Scope:
    """The account and region a request acts in."""
    return Scope(ctx.account_id, ctx.region)
