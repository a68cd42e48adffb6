"""What CloudWatch Logs operations act on: `arn:aws:logs:<region>:<account>:log-group:<name>`,
and `...:log-group:<name>:log-stream:<stream>` for the stream operations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values
from dockyard.core.scope import Scope
from dockyard.services.logs.groups import Directory


def _group(req: AccessRequest) -> Iterable[str]:
    name = req.params.get("logGroupName") or req.params.get("logGroupIdentifier")
    if not isinstance(name, str):
        return []
    if name.startswith("arn:"):
        return [name.removesuffix(":*")]
    return [req.arn("logs", f"log-group:{name}")]


def _stream(req: AccessRequest) -> Iterable[str]:
    stream = req.params.get("logStreamName")
    return [f"{g}:log-stream:{stream}" for g in _group(req)] if stream else []


def _arn(req: AccessRequest) -> Iterable[str]:
    return values(req.params, "resourceArn")


GROUP_OPS = ("CreateLogGroup", "DeleteLogGroup", "PutRetentionPolicy", "DeleteRetentionPolicy",
             "TagLogGroup", "UntagLogGroup", "ListTagsLogGroup", "DescribeLogStreams",
             "FilterLogEvents", "PutLogGroupDeletionProtection")  # fmt: skip
RESOURCES: dict[str, Resolver] = {op: _group for op in GROUP_OPS}
RESOURCES.update(
    {
        "CreateLogStream": _stream,
        "DeleteLogStream": _stream,
        "PutLogEvents": _stream,
        "GetLogEvents": _stream,
        "TagResource": _arn,
        "UntagResource": _arn,
        "ListTagsForResource": _arn,
        "DescribeLogGroups": lambda req: [req.arn("logs", "log-group:*")],
    }
)


def access(directory: Directory) -> AccessFunction:
    """Logs' access function, with a log group's tags (aws:ResourceTag/*)."""

    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        name = arn.split(":", 6)[-1] if ":log-group:" in arn else ""
        name = name.split(":log-stream:", 1)[0]
        found = directory.find_group(Scope(req.account_id, req.region), name) if name else None
        return dict(found.tags) if found is not None else None

    return table("logs", RESOURCES, tags=tags)
