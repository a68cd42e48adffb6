"""Log group operations, retention policies and tagging: request in, domain call, output out."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.logs import validation
from dockyard.services.logs.errors import (
    GROUP_NOT_FOUND,
    InvalidParameterException,
    ResourceNotFoundException,
    TooManyTagsException,
    ValidationException,
)
from dockyard.services.logs.groups import parse_group_arn
from dockyard.services.logs.model import LogGroup
from dockyard.services.logs.service import Logs

DESCRIBE_LIMIT = 50


def group_to_wire(logs: Logs, group: LogGroup) -> Result:
    out: Result = {
        "logGroupName": group.name,
        "creationTime": group.creation_time,
        "metricFilterCount": 0,
        "arn": f"{group.arn}:*",
        "logGroupArn": group.arn,
        "storedBytes": logs.stored_bytes(group),
        "logGroupClass": group.log_group_class,
        "deletionProtectionEnabled": group.deletion_protection,
    }
    if group.retention_in_days is not None:
        out["retentionInDays"] = group.retention_in_days
    return out


def group_for_arn(logs: Logs, ctx: RequestContext, resource_arn: str) -> LogGroup:
    owner, name = parse_group_arn(resource_arn)
    group = logs.directory.find_group(owner, name) if owner == scope_of(ctx) else None
    if group is None:
        raise ResourceNotFoundException(GROUP_NOT_FOUND)
    return group


def add_tags(
    logs: Logs, group: LogGroup, new: dict[str, str], *, too_many: type[Exception]
) -> None:
    merged = {**group.tags, **new}
    if len(merged) > validation.MAX_TAGS:
        raise too_many(f"A log group can have at most {validation.MAX_TAGS} tags (tags).")
    group.tags = merged
    logs.directory.save_group(group)


def remove_tags(logs: Logs, group: LogGroup, keys: list[str]) -> None:
    for key in keys:
        group.tags.pop(key, None)
    logs.directory.save_group(group)


def handlers(logs: Logs) -> dict[str, Handler]:
    directory = logs.directory

    def create_log_group(ctx: RequestContext, p: Params) -> Result:
        if p.get("kmsKeyId"):
            raise InvalidParameterException(
                "Dockyard has no KMS: log groups cannot be encrypted with a customer managed "
                f"key (kmsKeyId: {p['kmsKeyId']})."
            )
        directory.create_group(
            scope_of(ctx),
            validation.group_name(p["logGroupName"]),
            log_group_class=p.get("logGroupClass") or "STANDARD",
            tags=validation.tags(p.get("tags")),
            deletion_protection=bool(p.get("deletionProtectionEnabled", False)),
        )
        return {}

    def delete_log_group(ctx: RequestContext, p: Params) -> Result:
        group = directory.group(scope_of(ctx), p["logGroupName"])
        if group.deletion_protection:
            raise ValidationException(
                "Cannot delete log group with deletion protection enabled. "
                "Disable deletion protection first."
            )
        logs.delete_group(group)
        return {}

    def describe_log_groups(ctx: RequestContext, p: Params) -> Result:
        prefix, pattern = p.get("logGroupNamePrefix"), p.get("logGroupNamePattern")
        identifiers = p.get("logGroupIdentifiers")
        if prefix is not None and pattern is not None:
            raise InvalidParameterException(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        if identifiers and (prefix is not None or pattern is not None):
            raise InvalidParameterException(
                "logGroupIdentifiers cannot be combined with logGroupNamePrefix or "
                "logGroupNamePattern."
            )
        scope = scope_of(ctx)
        accounts = p.get("accountIdentifiers")
        # Cross-account observability is not modelled: only the caller's account has groups.
        own = not accounts or scope.account_id in accounts
        groups = directory.list_groups(scope) if own else []
        if prefix is not None:
            groups = [g for g in groups if g.name.startswith(prefix)]
        if pattern:
            needle = pattern.lower()
            groups = [g for g in groups if needle in g.name.lower()]
        if identifiers:
            wanted = {i.removesuffix(":*") for i in identifiers}
            groups = [g for g in groups if g.name in wanted or g.arn in wanted]
        if p.get("logGroupClass"):
            groups = [g for g in groups if g.log_group_class == p["logGroupClass"]]
        try:
            chunk, token = page(
                groups, lambda g: g.name, p.get("nextToken"), p.get("limit"), DESCRIBE_LIMIT
            )
        except InvalidToken as exc:
            raise InvalidParameterException("The specified nextToken is invalid.") from exc
        out: Result = {"logGroups": [group_to_wire(logs, g) for g in chunk]}
        if token:
            out["nextToken"] = token
        return out

    def put_retention_policy(ctx: RequestContext, p: Params) -> Result:
        group = directory.group(scope_of(ctx), p["logGroupName"])
        group.retention_in_days = validation.retention(p["retentionInDays"])
        directory.save_group(group)
        logs.purge_expired()
        return {}

    def delete_retention_policy(ctx: RequestContext, p: Params) -> Result:
        group = directory.group(scope_of(ctx), p["logGroupName"])
        group.retention_in_days = None
        directory.save_group(group)
        return {}

    def put_log_group_deletion_protection(ctx: RequestContext, p: Params) -> Result:
        group = directory.group_by_identifier(scope_of(ctx), p["logGroupIdentifier"])
        group.deletion_protection = bool(p["deletionProtectionEnabled"])
        directory.save_group(group)
        return {}

    def tag_log_group(ctx: RequestContext, p: Params) -> Result:
        group = directory.group(scope_of(ctx), p["logGroupName"])
        add_tags(logs, group, validation.tags(p["tags"]), too_many=InvalidParameterException)
        return {}

    def untag_log_group(ctx: RequestContext, p: Params) -> Result:
        remove_tags(logs, directory.group(scope_of(ctx), p["logGroupName"]), p["tags"])
        return {}

    def list_tags_log_group(ctx: RequestContext, p: Params) -> Result:
        return {"tags": dict(directory.group(scope_of(ctx), p["logGroupName"]).tags)}

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        group = group_for_arn(logs, ctx, p["resourceArn"])
        add_tags(logs, group, validation.tags(p["tags"]), too_many=TooManyTagsException)
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        remove_tags(logs, group_for_arn(logs, ctx, p["resourceArn"]), p["tagKeys"])
        return {}

    def list_tags_for_resource(ctx: RequestContext, p: Params) -> Result:
        return {"tags": dict(group_for_arn(logs, ctx, p["resourceArn"]).tags)}

    return {
        "CreateLogGroup": create_log_group,
        "DeleteLogGroup": delete_log_group,
        "DescribeLogGroups": describe_log_groups,
        "PutRetentionPolicy": put_retention_policy,
        "DeleteRetentionPolicy": delete_retention_policy,
        "PutLogGroupDeletionProtection": put_log_group_deletion_protection,
        "TagLogGroup": tag_log_group,
        "UntagLogGroup": untag_log_group,
        "ListTagsLogGroup": list_tags_log_group,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    }
