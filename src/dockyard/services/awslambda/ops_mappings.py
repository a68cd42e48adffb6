"""Event source mapping, event invoke config and function URL operations: request in,
domain call, output out."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.awslambda import eventconfigs
from dockyard.services.awslambda.errors import InvalidParameterValueException
from dockyard.services.awslambda.eventconfigs import EventConfigs
from dockyard.services.awslambda.mappings import Mapping, Mappings
from dockyard.services.awslambda.urls import FunctionUrls

UNSUPPORTED = (
    "FilterCriteria", "DestinationConfig", "StartingPosition", "StartingPositionTimestamp",
    "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "MaximumRetryAttempts",
    "ParallelizationFactor", "TumblingWindowInSeconds", "Topics", "Queues",
    "SourceAccessConfigurations", "SelfManagedEventSource", "ScalingConfig",
    "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig", "KMSKeyArn", "MetricsConfig", "LoggingConfig",
    "ProvisionedPollerConfig", "Tags",
)  # fmt: skip
RESPONSE_TYPES = ("ReportBatchItemFailures",)


def _check(p: Params) -> list[str] | None:
    for member in UNSUPPORTED:
        if p.get(member) not in (None, [], {}):
            raise InvalidParameterValueException(
                f"Dockyard does not support {member} for SQS event source mappings."
            )
    types = p.get("FunctionResponseTypes")
    if types is not None and any(t not in RESPONSE_TYPES for t in types):
        raise InvalidParameterValueException(
            f"FunctionResponseTypes may only hold {', '.join(RESPONSE_TYPES)}."
        )
    return list(types) if types is not None else None


def mapping_to_wire(m: Mapping) -> Result:
    out: Result = {
        "UUID": m.uuid,
        "EventSourceMappingArn": m.arn,
        "BatchSize": m.batch_size,
        "MaximumBatchingWindowInSeconds": m.batching_window,
        "EventSourceArn": m.event_source_arn,
        "FunctionArn": m.function_arn,
        "LastModified": m.last_modified,
        "LastProcessingResult": m.last_result,
        "State": m.state,
        "StateTransitionReason": m.reason,
    }
    if m.response_types:
        out["FunctionResponseTypes"] = list(m.response_types)
    return out


def handlers(mappings: Mappings) -> dict[str, Handler]:
    def create(ctx: RequestContext, p: Params) -> Result:
        types = _check(p)
        if not p.get("EventSourceArn"):
            # Optional in the model for self-managed Kafka sources, which Dockyard lacks.
            raise InvalidParameterValueException(
                "EventSourceArn is required: the ARN of the SQS queue to read from."
            )
        m = mappings.create(
            scope_of(ctx), p["FunctionName"], p["EventSourceArn"], p.get("BatchSize"),
            p.get("MaximumBatchingWindowInSeconds"), p.get("Enabled", True), types or [],
        )  # fmt: skip
        return mapping_to_wire(m)

    def get(ctx: RequestContext, p: Params) -> Result:
        return mapping_to_wire(mappings.get(scope_of(ctx), p["UUID"]))

    def update(ctx: RequestContext, p: Params) -> Result:
        types = _check(p)
        m = mappings.update(
            scope_of(ctx), p["UUID"], p.get("FunctionName"), p.get("BatchSize"),
            p.get("MaximumBatchingWindowInSeconds"), p.get("Enabled"), types,
        )  # fmt: skip
        return mapping_to_wire(m)

    def delete(ctx: RequestContext, p: Params) -> Result:
        return mapping_to_wire(mappings.delete(scope_of(ctx), p["UUID"]))

    def listed(ctx: RequestContext, p: Params) -> Result:
        found = mappings.listed(scope_of(ctx), p.get("EventSourceArn"), p.get("FunctionName"))
        try:
            items, marker = page(found, lambda m: m.uuid, p.get("Marker"), p.get("MaxItems"), 100)
        except InvalidToken as exc:
            raise InvalidParameterValueException("Invalid marker (Marker).") from exc
        out: Result = {"EventSourceMappings": [mapping_to_wire(m) for m in items]}
        if marker:
            out["NextMarker"] = marker
        return out

    return {
        "CreateEventSourceMapping": create,
        "GetEventSourceMapping": get,
        "UpdateEventSourceMapping": update,
        "DeleteEventSourceMapping": delete,
        "ListEventSourceMappings": listed,
    }


def event_config_handlers(configs: EventConfigs) -> dict[str, Handler]:
    def settings(p: Params) -> dict[str, Any]:
        return {k: p[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds",
                                  "DestinationConfig") if k in p}  # fmt: skip

    def put(ctx: RequestContext, p: Params) -> Result:
        fn, key, config = configs.put(
            scope_of(ctx), p["FunctionName"], p.get("Qualifier"), settings(p), False
        )
        return eventconfigs.to_wire(fn, key, config)

    def update(ctx: RequestContext, p: Params) -> Result:
        fn, key, config = configs.put(
            scope_of(ctx), p["FunctionName"], p.get("Qualifier"), settings(p), True
        )
        return eventconfigs.to_wire(fn, key, config)

    def get(ctx: RequestContext, p: Params) -> Result:
        return eventconfigs.to_wire(
            *configs.get(scope_of(ctx), p["FunctionName"], p.get("Qualifier"))
        )

    def delete(ctx: RequestContext, p: Params) -> Result:
        configs.delete(scope_of(ctx), p["FunctionName"], p.get("Qualifier"))
        return {}

    def listed(ctx: RequestContext, p: Params) -> Result:
        fn, _ = configs.functions.resolve(scope_of(ctx), p["FunctionName"])
        found = sorted(fn.event_configs.items())
        try:
            items, marker = page(found, lambda kv: kv[0], p.get("Marker"), p.get("MaxItems"), 50)
        except InvalidToken as exc:
            raise InvalidParameterValueException("Invalid marker (Marker).") from exc
        out: Result = {"FunctionEventInvokeConfigs": [eventconfigs.to_wire(fn, k, c)
                                                      for k, c in items]}  # fmt: skip
        if marker:
            out["NextMarker"] = marker
        return out

    return {
        "PutFunctionEventInvokeConfig": put,
        "UpdateFunctionEventInvokeConfig": update,
        "GetFunctionEventInvokeConfig": get,
        "DeleteFunctionEventInvokeConfig": delete,
        "ListFunctionEventInvokeConfigs": listed,
    }


def url_handlers(urls: FunctionUrls) -> dict[str, Handler]:
    def settings(p: Params) -> dict[str, Any]:
        return {k: p[k] for k in ("AuthType", "Cors", "InvokeMode") if k in p}

    def create(ctx: RequestContext, p: Params) -> Result:
        out = urls.to_wire(*urls.create(scope_of(ctx), p["FunctionName"], p.get("Qualifier"),
                                        settings(p)))  # fmt: skip
        out.pop("LastModifiedTime", None)
        return out

    def get(ctx: RequestContext, p: Params) -> Result:
        return urls.to_wire(*urls.get(scope_of(ctx), p["FunctionName"], p.get("Qualifier")))

    def update(ctx: RequestContext, p: Params) -> Result:
        return urls.to_wire(*urls.update(scope_of(ctx), p["FunctionName"], p.get("Qualifier"),
                                         settings(p)))  # fmt: skip

    def delete(ctx: RequestContext, p: Params) -> Result:
        urls.delete(scope_of(ctx), p["FunctionName"], p.get("Qualifier"))
        return {}

    def listed(ctx: RequestContext, p: Params) -> Result:
        fn, _ = urls.functions.resolve(scope_of(ctx), p["FunctionName"])
        found = sorted(fn.url_configs.items())
        try:
            items, marker = page(found, lambda kv: kv[0], p.get("Marker"), p.get("MaxItems"), 50)
        except InvalidToken as exc:
            raise InvalidParameterValueException("Invalid marker (Marker).") from exc
        out: Result = {"FunctionUrlConfigs": [urls.to_wire(fn, k, c) for k, c in items]}
        if marker:
            out["NextMarker"] = marker
        return out

    return {
        "CreateFunctionUrlConfig": create,
        "GetFunctionUrlConfig": get,
        "UpdateFunctionUrlConfig": update,
        "DeleteFunctionUrlConfig": delete,
        "ListFunctionUrlConfigs": listed,
    }
