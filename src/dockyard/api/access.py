"""What a request acts on, for authorization: the IAM action and resource ARN(s) of an
operation, as AWS's Service Authorization Reference lists them.

A service gives its `Provider` an `access` function: from an `AccessRequest` (the account,
region, operation and the parsed parameters) it answers the `Access` pairs to authorize,
usually one (`ecs:DescribeServices` on the service ARN) and sometimes more (`iam:PassRole` on
a task definition's role). Without one, or for an operation it does not name, the front door
authorizes `<prefix>:<Operation>` on `*`. A REST service (S3) answers the same way from its
own parameters (bucket and key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dockyard.core.iampolicy import Policy


@dataclass(frozen=True, slots=True)
class AccessRequest:
    account_id: str
    region: str
    operation: str
    params: Mapping[str, Any]

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        """An ARN in this request's account (and region, unless given: "" for global)."""
        where = self.region if region is None else region
        return f"arn:aws:{service}:{where}:{self.account_id}:{resource}"


@dataclass(frozen=True, slots=True)
class Access:
    action: str  # "ecs:RunTask"
    resource: str = "*"
    # The resource's tags, where the service records them (aws:ResourceTag/*).
    tags: Mapping[str, str] | None = None
    # Extra condition keys for this pair (iam:PassedToService, ...), lower-cased.
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # The resource's own policy (an ECR repository policy), evaluated with the identity's
    # policies: within one account either allows.
    policy: Policy | None = None


AccessFunction = Callable[[AccessRequest], Sequence[Access]]
# Per operation: the resource ARN(s) it acts on (empty: "*").
Resolver = Callable[[AccessRequest], Iterable[str]]


TagLookup = Callable[[AccessRequest, str], "Mapping[str, str] | None"]


def table(
    prefix: str,
    resolvers: Mapping[str, Resolver],
    extra: Mapping[str, AccessFunction] | None = None,
    tags: TagLookup | None = None,
) -> AccessFunction:
    """An access function from a per-operation table of resolvers, plus per-operation extra
    pairs (`iam:PassRole`); `tags` finds a resource's tags by ARN (aws:ResourceTag/*)."""

    def access(req: AccessRequest) -> Sequence[Access]:
        action = f"{prefix}:{req.operation}"
        resolver = resolvers.get(req.operation)
        arns = [a for a in resolver(req) if a] if resolver is not None else []
        pairs = [
            Access(action, a, tags(req, a) if tags is not None else None)
            for a in dict.fromkeys(arns)
        ] or [Access(action, "*")]
        more = extra.get(req.operation) if extra else None
        if more is not None:
            pairs.extend(more(req))
        return pairs

    return access


def values(params: Mapping[str, Any], name: str) -> list[str]:
    """A parameter as a list of strings (a single value, a list, or nothing)."""
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str)]
    return [str(value)] if isinstance(value, str) else []


def named(param: str, service: str, template: str, *, region: bool = True) -> Resolver:
    """A resolver for a parameter holding names or ARNs: an ARN stays, a name goes into
    `template` (`"cluster/{}"`)."""

    def resolve(req: AccessRequest) -> list[str]:
        out = []
        for value in values(req.params, param):
            if value.startswith("arn:"):
                out.append(value)
            else:
                out.append(req.arn(service, template.format(value), region=None if region else ""))
        return out

    return resolve


def passrole(param_path: Sequence[str], service_principal: str) -> AccessFunction:
    """`iam:PassRole` on every role ARN found under `param_path` (lists are walked)."""

    def find(node: Any, path: Sequence[str]) -> list[str]:
        if not path:
            return [node] if isinstance(node, str) and node else []
        if isinstance(node, list):
            return [v for item in node for v in find(item, path)]
        if isinstance(node, Mapping):
            return find(node.get(path[0]), path[1:])
        return []

    def access(req: AccessRequest) -> list[Access]:
        out = []
        for role in find(req.params, param_path):
            arn = role if role.startswith("arn:") else f"arn:aws:iam::{req.account_id}:role/{role}"
            out.append(
                Access("iam:PassRole", arn, context={"iam:passedtoservice": [service_principal]})
            )
        return out

    return access


def combine(*functions: AccessFunction) -> AccessFunction:
    def access(req: AccessRequest) -> list[Access]:
        return [a for f in functions for a in f(req)]

    return access
