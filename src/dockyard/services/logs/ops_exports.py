"""Export tasks on the wire: CreateExportTask, DescribeExportTasks, CancelExportTask."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, decode_token, encode_token
from dockyard.services.logs.errors import InvalidParameterException
from dockyard.services.logs.exports import Exports
from dockyard.services.logs.service import Logs


def handlers(logs: Logs, exports: Exports) -> dict[str, Handler]:
    def create_export_task(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        group = logs.directory.group(scope, p["logGroupName"])
        task = exports.create(
            scope,
            group,
            task_name=p.get("taskName"),
            stream_prefix=p.get("logStreamNamePrefix"),
            start=p["from"],
            end=p["to"],
            destination=p["destination"],
            destination_prefix=p.get("destinationPrefix"),
        )
        return {"taskId": task.task_id}

    def describe_export_tasks(ctx: RequestContext, p: Params) -> Result:
        found = exports.of_scope(scope_of(ctx))
        if p.get("taskId"):
            found = [t for t in found if t.task_id == p["taskId"]]
        if p.get("statusCode"):
            found = [t for t in found if t.status == p["statusCode"]]
        start = 0
        if p.get("nextToken"):
            try:
                start = int(decode_token(p["nextToken"]))
            except (InvalidToken, ValueError):
                raise InvalidParameterException("The specified nextToken is invalid.") from None
        limit = p.get("limit") or 50
        page = found[start : start + limit]
        out: Result = {"exportTasks": [t.to_wire() for t in page]}
        if start + limit < len(found):
            out["nextToken"] = encode_token(str(start + limit))
        return out

    def cancel_export_task(ctx: RequestContext, p: Params) -> Result:
        exports.cancel(scope_of(ctx), p["taskId"])
        return {}

    return {
        "CreateExportTask": create_export_task,
        "DescribeExportTasks": describe_export_tasks,
        "CancelExportTask": cancel_export_task,
    }
