"""What CloudWatch Logs operations act on: `arn:aws:logs:<region>:<account>:log-group:<name>`,
and `...:log-group:<name>:log-stream:<stream>` for the stream operations."""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values


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

ACCESS: AccessFunction = table("logs", RESOURCES)
