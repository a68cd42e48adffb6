"""How a service plugs into the front door.

A service offers a `Provider`: its botocore service name and a handler per operation it
implements. A handler receives the request context and the parsed, validated input (a dict
shaped like botocore's input shape, timestamps as `datetime`, blobs as `bytes`) and returns
a dict shaped like the output shape (timestamps may be `datetime` or epoch seconds). It may
be a plain function or a coroutine function. It raises `ServiceError`s for AWS errors.
Operations of the model with no handler answer `UnsupportedOperation` (HTTP 501).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.api.access import AccessFunction, AccessRequest
from dockyard.api.context import RequestContext
from dockyard.core.iampolicy import Policy

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[RequestContext, Params], "Result | Awaitable[Result]"]


@dataclass(slots=True)
class Provider:
    service: str
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    # The error code that input validation raises for this service (ECS:
    # InvalidParameterException; query services: ValidationError).
    validation_error_code: str = "ValidationException"
    # Called by POST /_dockyard/reset after the store is wiped.
    reset: Callable[[], None] | None = None
    # Authorization: the IAM service prefix of its actions (default: `service`), and what
    # each operation acts on (`api.access`; default: `<prefix>:<Operation>` on `*`).
    action_prefix: str = ""
    access: AccessFunction | None = None
    # Operations whose handlers authorize the caller themselves (sts:AssumeRole weighs the
    # role's trust policy; sts:GetCallerIdentity needs no permission).
    self_authorized: frozenset[str] = frozenset()

    # The resource-based policy that is weighed with the caller's own (an S3 bucket's
    # policy), for an operation with these parameters; None: the service has none.
    resource_policy: Callable[[AccessRequest], Policy | None] | None = None
    # Browser CORS (S3). `preflight(bucket, headers)`: the headers answering an OPTIONS
    # request (a ServiceError when no rule allows it); `cors(bucket, method, headers)`: the
    # Access-Control-* headers an actual request from an allowed origin gets.
    preflight: Callable[[str, Mapping[str, str]], list[tuple[str, str]]] | None = None
    cors: Callable[[str, str, Mapping[str, str]], list[tuple[str, str]]] | None = None

    @property
    def prefix(self) -> str:
        return self.action_prefix or self.service
