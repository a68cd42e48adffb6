"""What SSM parameter operations act on: `arn:aws:ssm:<region>:<account>:parameter/<name>`
(a name's leading `/` is not doubled), with the parameter's tags (aws:ResourceTag/*); the
public `/aws/service/...` parameters have no account in their ARNs, as AWS's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values
from dockyard.core.scope import Scope
from dockyard.services.ssm import public
from dockyard.services.ssm.parameters import Parameters


def parameter_arn(req: AccessRequest, name: str) -> str:
    if name.startswith("arn:"):
        return name
    head, sep, tail = name.rpartition(":")
    base = head if sep and head and "/" not in tail else name  # `name:3`, `name:label`
    resource = "parameter/" + base.removeprefix("/")
    if public.is_public(base):  # AWS's own: no account in the ARN
        return f"arn:aws:ssm:{req.region}::{resource}"
    return req.arn("ssm", resource)


def _names(param: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        return [parameter_arn(req, v) for v in values(req.params, param)]

    return resolve


def _path(req: AccessRequest) -> Iterable[str]:
    path = str(req.params.get("Path", "/")).rstrip("/")
    return [parameter_arn(req, path if path.startswith("/") else "/" + path)]


def _tagged(req: AccessRequest) -> Iterable[str]:
    if req.params.get("ResourceType") != "Parameter":
        return []
    return [parameter_arn(req, str(req.params.get("ResourceId", "")))]


NAME = _names("Name")
RESOURCES: dict[str, Resolver] = {
    "GetParameter": NAME,
    "PutParameter": NAME,
    "DeleteParameter": NAME,
    "GetParameterHistory": NAME,
    "LabelParameterVersion": NAME,
    "UnlabelParameterVersion": NAME,
    "GetParameters": _names("Names"),
    "DeleteParameters": _names("Names"),
    "GetParametersByPath": _path,
    "AddTagsToResource": _tagged,
    "RemoveTagsFromResource": _tagged,
    "ListTagsForResource": _tagged,
}


def access(parameters: Parameters) -> AccessFunction:
    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        found = parameters.find(Scope(req.account_id, req.region), arn)
        return dict(found.tags) if found is not None else None

    return table("ssm", RESOURCES, tags=tags)
