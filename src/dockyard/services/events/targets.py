"""Delivering an event to a rule's targets: CloudWatch Logs log groups, HTTP endpoints (API
destinations), ECS tasks (EcsParameters), other event buses, SQS queues (`target_sqs`) and
Lambda functions (`target_lambda`). Which target kinds Dockyard can deliver to is decided here;
PutTargets refuses the others."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

from dockyard.core.ids import arn_resource
from dockyard.services.events import target_sqs

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 5.0


class LogSink(Protocol):
    """CloudWatch Logs as a target (the Logs service has this method)."""

    def put_events(self, account_id: str, region: str, group: str, stream: str,
                   events: list[tuple[int, str]], create_group: bool) -> None: ...  # fmt: skip


class TaskLauncher(Protocol):
    """ECS as a target: run tasks as RunTask would (`params` in RunTask's input shape); the
    started task ARNs and RunTask's failures. Raises a `ServiceError` for a refused request."""

    def run_task(
        self, account_id: str, region: str, params: dict[str, Any]
    ) -> tuple[list[str], list[dict[str, Any]]]: ...


def kind_of(target_arn: str) -> str | None:
    """logs | api-destination | ecs | event-bus | sqs | lambda; None for a target Dockyard
    cannot reach."""
    parts = target_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    service, resource = parts[2], parts[5]
    if service == "logs" and resource.startswith("log-group:"):
        return "logs"
    if service == "events" and resource.startswith("api-destination/"):
        return "api-destination"
    if service == "events" and resource.startswith("event-bus/"):
        return "event-bus"
    if service == "ecs" and resource.startswith("cluster/"):
        return "ecs"
    if target_sqs.is_queue(target_arn):
        return "sqs"
    if service == "lambda" and resource.startswith("function:"):
        return "lambda"
    return None


def ecs_run_task_params(target: dict[str, Any], rule_name: str, payload: str) -> dict[str, Any]:
    """EcsParameters (and an Input with overrides) as ECS RunTask parameters."""
    ep = target["EcsParameters"]
    params: dict[str, Any] = {
        "cluster": target["Arn"],
        "taskDefinition": ep["TaskDefinitionArn"],
        "count": int(ep.get("TaskCount", 1)),
        "startedBy": f"events-rule/{rule_name}"[:128],
    }
    if ep.get("LaunchType"):
        params["launchType"] = ep["LaunchType"]
    if ep.get("PlatformVersion"):
        params["platformVersion"] = ep["PlatformVersion"]
    if ep.get("Group"):
        params["group"] = ep["Group"]
    if ep.get("CapacityProviderStrategy"):
        params["capacityProviderStrategy"] = [
            {"capacityProvider": s["capacityProvider"], "weight": s.get("weight", 0),
             "base": s.get("base", 0)} for s in ep["CapacityProviderStrategy"]
        ]  # fmt: skip
    vpc = (ep.get("NetworkConfiguration") or {}).get("awsvpcConfiguration")
    if vpc:
        params["networkConfiguration"] = {"awsvpcConfiguration": {
            "subnets": vpc.get("Subnets", []),
            "securityGroups": vpc.get("SecurityGroups", []),
            **({"assignPublicIp": vpc["AssignPublicIp"]} if vpc.get("AssignPublicIp") else {}),
        }}  # fmt: skip
    if ep.get("EnableECSManagedTags") is not None:
        params["enableECSManagedTags"] = ep["EnableECSManagedTags"]
    if ep.get("PropagateTags"):
        params["propagateTags"] = ep["PropagateTags"]
    if ep.get("ReferenceId"):
        params["referenceId"] = ep["ReferenceId"]
    if ep.get("Tags"):
        params["tags"] = [{"key": t["key"], "value": t["value"]} for t in ep["Tags"]]
    if ep.get("PlacementConstraints"):
        params["placementConstraints"] = ep["PlacementConstraints"]
    if ep.get("PlacementStrategy"):
        params["placementStrategy"] = ep["PlacementStrategy"]
    if "Input" in target or "InputTransformer" in target:
        try:
            overrides = json.loads(payload)
        except ValueError:
            overrides = None
        if isinstance(overrides, dict):
            params["overrides"] = overrides
    return params


def http_request(
    endpoint: str, method: str, body: str, connection: dict[str, Any] | None,
    http: dict[str, Any] | None,
) -> urllib.request.Request:  # fmt: skip
    """The HTTP request an API destination target makes for one event."""
    url = endpoint
    for value in (http or {}).get("PathParameterValues") or []:
        url = url.replace("*", urllib.parse.quote(value, safe=""), 1)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Amazon/EventBridge/ApiDestinations",
    }
    query: dict[str, str] = {}
    if connection is not None:
        auth_type, params = connection["type"], connection["params"]
        if auth_type == "API_KEY":
            key = params["ApiKeyAuthParameters"]
            headers[key["ApiKeyName"]] = key["ApiKeyValue"]
        elif auth_type == "BASIC":
            basic = params["BasicAuthParameters"]
            token = base64.b64encode(f"{basic['Username']}:{basic['Password']}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        extra = params.get("InvocationHttpParameters") or {}
        for h in extra.get("HeaderParameters") or []:
            headers[h["Key"]] = h["Value"]
        for q in extra.get("QueryStringParameters") or []:
            query[q["Key"]] = q["Value"]
    headers.update((http or {}).get("HeaderParameters") or {})
    query.update((http or {}).get("QueryStringParameters") or {})
    if query:
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
    data = body.encode() if method not in ("GET", "HEAD") else None
    return urllib.request.Request(url, data=data, method=method, headers=headers)


def send(request: urllib.request.Request, on_done: Callable[[int | None, str], None]) -> None:
    """Send the request off the event loop; `on_done(status, error)` is logged context."""

    def work() -> None:
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as resp:
                on_done(resp.status, "")
        except urllib.error.HTTPError as exc:
            on_done(exc.code, str(exc))
        except (urllib.error.URLError, OSError) as exc:
            on_done(None, str(exc))

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        threading.Thread(target=work, name="events-http", daemon=True).start()
        return
    loop.run_in_executor(None, work)


def log_group_name(target_arn: str) -> str:
    return arn_resource(target_arn).removeprefix("log-group:").removesuffix(":*")
