"""Tag operations: CreateTags, DeleteTags, DescribeTags."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ec2 import filters, tags
from dockyard.services.ec2.tagging import TagEntry, Tagging

TAG_FILTERS = ("key", "value", "resource-id", "resource-type")


def fields(entry: TagEntry) -> dict[str, list[str]]:
    return {
        "key": [entry.key],
        "value": [entry.value],
        "resource-id": [entry.resource_id],
        "resource-type": [entry.resource_type],
        f"tag:{entry.key}": [entry.value],
    }


def handlers(tagging: Tagging) -> dict[str, Handler]:
    def create_tags(ctx: RequestContext, p: Params) -> Result:
        tagging.create(scope_of(ctx), list(p.get("Resources") or []), tags.checked(p.get("Tags")))
        return {}

    def delete_tags(ctx: RequestContext, p: Params) -> Result:
        tags.checked(p.get("Tags"), values=False)  # keys as EC2 checks them
        wanted = {
            str(t["Key"]): (None if t.get("Value") is None else str(t["Value"]))
            for t in p.get("Tags") or []
        }
        tagging.delete(scope_of(ctx), list(p.get("Resources") or []), wanted)
        return {}

    def describe_tags(ctx: RequestContext, p: Params) -> Result:
        chosen = filters.select(
            tagging.entries(scope_of(ctx)), fields, p.get("Filters"), TAG_FILTERS
        )
        chunk, token = filters.paged(
            chosen, lambda e: f"{e.resource_id}\x00{e.key}", p, least=5, most=1000
        )
        shown = [
            {
                "ResourceId": e.resource_id,
                "ResourceType": e.resource_type,
                "Key": e.key,
                "Value": e.value,
            }
            for e in chunk
        ]
        return filters.with_token({"Tags": shown}, token)

    return {"CreateTags": create_tags, "DeleteTags": delete_tags, "DescribeTags": describe_tags}
