"""ECS task definition operations: request in, domain call, output shape out."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, decode_token, encode_token
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tags import tags_to_wire, validate_tags
from dockyard.services.ecs.taskdefs.domain import TaskDefinition
from dockyard.services.ecs.taskdefs.validation import max_results

T = TypeVar("T")


def handlers(ecs: Ecs) -> dict[str, Handler]:
    taskdefs = ecs.taskdefs

    def register(ctx: RequestContext, p: Params) -> Result:
        tags = validate_tags(p.get("tags", []))
        request = {k: v for k, v in p.items() if k != "tags"}
        td = taskdefs.register(
            scope_of(ctx),
            request,
            tags=tags,
            registered_by=f"arn:aws:iam::{ctx.account_id}:root",
        )
        return {"taskDefinition": _wire(td), "tags": tags_to_wire(td.tags)}

    def describe(ctx: RequestContext, p: Params) -> Result:
        td = taskdefs.get(scope_of(ctx), p["taskDefinition"])
        out: Result = {"taskDefinition": _wire(td)}
        if "TAGS" in (p.get("include") or []):
            out["tags"] = tags_to_wire(td.tags)
        return out

    def list_task_definitions(ctx: RequestContext, p: Params) -> Result:
        descending = p.get("sort") == "DESC"
        found = taskdefs.matching(
            scope_of(ctx),
            family_prefix=p.get("familyPrefix"),
            status=p.get("status") or "ACTIVE",
            descending=descending,
        )
        chunk, token = _page(
            found,
            lambda td: f"{td.family} {td.revision:010d}",  # sorts as (family, revision)
            p.get("nextToken"),
            max_results(p.get("maxResults")),
            descending,
        )
        out: Result = {"taskDefinitionArns": [td.arn for td in chunk]}
        if token:
            out["nextToken"] = token
        return out

    def list_families(ctx: RequestContext, p: Params) -> Result:
        names = taskdefs.families(
            scope_of(ctx), family_prefix=p.get("familyPrefix"), status=p.get("status") or "ALL"
        )
        chunk, token = _page(
            names, lambda n: n, p.get("nextToken"), max_results(p.get("maxResults")), False
        )
        out: Result = {"families": chunk}
        if token:
            out["nextToken"] = token
        return out

    def deregister(ctx: RequestContext, p: Params) -> Result:
        return {"taskDefinition": _wire(taskdefs.deregister(scope_of(ctx), p["taskDefinition"]))}

    def delete(ctx: RequestContext, p: Params) -> Result:
        deleted, failures = taskdefs.delete(scope_of(ctx), p.get("taskDefinitions") or [])
        return {"taskDefinitions": [_wire(td) for td in deleted], "failures": failures}

    return {
        "RegisterTaskDefinition": register,
        "DescribeTaskDefinition": describe,
        "ListTaskDefinitions": list_task_definitions,
        "ListTaskDefinitionFamilies": list_families,
        "DeregisterTaskDefinition": deregister,
        "DeleteTaskDefinitions": delete,
    }


def _wire(td: TaskDefinition) -> dict[str, Any]:
    return copy.deepcopy(td.document)


def _page(
    items: Sequence[T],
    key: Callable[[T], str],
    next_token: str | None,
    limit: int | None,
    descending: bool,
) -> tuple[list[T], str | None]:
    """One page of `items` (sorted by `key`, ascending or descending) after the token."""
    ordered = list(items)
    if next_token:
        try:
            after = decode_token(next_token)
        except InvalidToken as exc:
            raise InvalidParameterException("Invalid nextToken (nextToken).") from exc
        ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    size = limit or 100
    chunk = ordered[:size]
    token = encode_token(key(chunk[-1])) if len(ordered) > size and chunk else None
    return chunk, token
