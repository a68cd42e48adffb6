"""EventBridge operations: buses, rules, targets, events, connections, API destinations."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.ids import arn, new_uuid
from dockyard.core.paging import InvalidToken, page
from dockyard.core.scope import Scope
from dockyard.services.events import patterns, validation
from dockyard.services.events.errors import (
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ValidationException,
)
from dockyard.services.events.model import (
    DEFAULT_BUS,
    ApiDestination,
    Connection,
    EventBus,
    Rule,
    RuleState,
    bus_arn,
    rule_arn,
)
from dockyard.services.events.service import Events, iso

MAX_TARGETS = 5
MAX_ENTRIES = 10
MAX_EVENT_SIZE = 256 * 1024


def seconds(value: Any) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


def rule_to_wire(rule: Rule) -> Result:
    out: Result = {"Name": rule.name, "Arn": rule.arn, "State": rule.state,
                   "EventBusName": rule.bus}  # fmt: skip
    for key, value in (("EventPattern", rule.event_pattern),
                       ("ScheduleExpression", rule.schedule_expression),
                       ("Description", rule.description), ("RoleArn", rule.role_arn),
                       ("ManagedBy", rule.managed_by)):  # fmt: skip
        if value is not None:
            out[key] = value
    return out


def _tags(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def handlers(events: Events) -> dict[str, Handler]:
    def find_rule(scope: Scope, name: str, bus: str | None) -> Rule:
        b = events.bus(scope, bus)
        rule = events.rules.get(rule_arn(scope, b.name, name))
        if rule is None:
            raise ResourceNotFoundException(f"Rule {name} does not exist on EventBus {b.name}.")
        return rule

    # -- buses --

    def create_event_bus(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        name = validation.bus_name(p["Name"])
        if name == DEFAULT_BUS or bus_arn(scope, name) in events.buses:
            raise ResourceAlreadyExistsException(f"Event bus {name} already exists.")
        if p.get("EventSourceName"):
            raise ValidationException("Partner event sources are not supported by Dockyard.")
        bus = EventBus(bus_arn(scope, name), name, scope.account_id, scope.region,
                       events.clock.now(), p.get("Description"), _tags(p.get("Tags")))  # fmt: skip
        events.save_bus(bus)
        return {
            "EventBusArn": bus.arn,
            **({"Description": bus.description} if bus.description else {}),
        }

    def describe_event_bus(ctx: RequestContext, p: Params) -> Result:
        bus = events.bus(scope_of(ctx), p.get("Name"))
        out: Result = {"Name": bus.name, "Arn": bus.arn, "CreationTime": bus.created,
                       "LastModifiedTime": bus.created}  # fmt: skip
        if bus.description:
            out["Description"] = bus.description
        return out

    def delete_event_bus(ctx: RequestContext, p: Params) -> Result:
        if p["Name"] == DEFAULT_BUS:
            raise ValidationException("Cannot delete event bus default.")
        scope = scope_of(ctx)
        bus = events.buses.get(bus_arn(scope, p["Name"]))
        if bus is not None:
            events.delete_bus(bus)
        return {}

    def list_event_buses(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        events.bus(scope, DEFAULT_BUS)
        buses = sorted((b for b in events.buses.values()
                        if (b.account_id, b.region) == (scope.account_id, scope.region)
                        and b.name.startswith(p.get("NamePrefix") or "")),
                       key=lambda b: b.name)  # fmt: skip
        chunk, token = _page(buses, lambda b: b.name, p)
        out: Result = {"EventBuses": [{"Name": b.name, "Arn": b.arn, "CreationTime": b.created,
                                       "LastModifiedTime": b.created} for b in chunk]}  # fmt: skip
        if token:
            out["NextToken"] = token
        return out

    # -- rules --

    def put_rule(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        name = validation.rule_name(p["Name"])
        bus = events.bus(scope, p.get("EventBusName"))
        pattern, sched = p.get("EventPattern"), p.get("ScheduleExpression")
        if not pattern and not sched:
            raise ValidationException("Parameter(s) EventPattern or ScheduleExpression must be "
                                      "specified.")  # fmt: skip
        if pattern:
            validation.event_pattern(pattern)
        if sched:
            if bus.name != DEFAULT_BUS:
                raise ValidationException("ScheduleExpression is supported only on the default "
                                          "event bus.")  # fmt: skip
            validation.schedule_expression(sched)
        state = p.get("State") or RuleState.ENABLED
        arn_ = rule_arn(scope, bus.name, name)
        rule = events.rules.get(arn_)
        now = events.clock.now()
        if rule is None:
            rule = Rule(arn_, name, bus.name, scope.account_id, scope.region, now)
        elif rule.schedule_expression != sched:
            rule.created = now  # a new schedule counts from now
        rule.event_pattern, rule.schedule_expression = pattern, sched
        rule.state, rule.description = state, p.get("Description")
        rule.role_arn = p.get("RoleArn")
        rule.tags.update(_tags(p.get("Tags")))
        events.save_rule(rule)
        return {"RuleArn": rule.arn}

    def describe_rule(ctx: RequestContext, p: Params) -> Result:
        rule = find_rule(scope_of(ctx), p["Name"], p.get("EventBusName"))
        return {**rule_to_wire(rule), "CreatedBy": rule.account_id}

    def delete_rule(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        bus = events.bus(scope, p.get("EventBusName"))
        rule = events.rules.get(rule_arn(scope, bus.name, p["Name"]))
        if rule is None:
            return {}
        if rule.targets:
            raise ValidationException("Rule can't be deleted since it has targets.")
        events.delete_rule(rule)
        return {}

    def _set_state(ctx: RequestContext, p: Params, state: str) -> Result:
        rule = find_rule(scope_of(ctx), p["Name"], p.get("EventBusName"))
        rule.state = state
        events.save_rule(rule)
        return {}

    def enable_rule(ctx: RequestContext, p: Params) -> Result:
        return _set_state(ctx, p, RuleState.ENABLED)

    def disable_rule(ctx: RequestContext, p: Params) -> Result:
        return _set_state(ctx, p, RuleState.DISABLED)

    def list_rules(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        bus = events.bus(scope, p.get("EventBusName"))
        rules = [r for r in events.rules_of(scope, bus.name)
                 if r.name.startswith(p.get("NamePrefix") or "")]  # fmt: skip
        chunk, token = _page(rules, lambda r: r.name, p, "Limit")
        out: Result = {"Rules": [rule_to_wire(r) for r in chunk]}
        if token:
            out["NextToken"] = token
        return out

    # -- targets --

    def put_targets(ctx: RequestContext, p: Params) -> Result:
        rule = find_rule(scope_of(ctx), p["Rule"], p.get("EventBusName"))
        failed = []
        added = 0
        for target in p["Targets"]:
            problem = validation.target_problem(target)
            if problem is not None:
                failed.append({"TargetId": target["Id"], "ErrorCode": "ValidationException",
                               "ErrorMessage": problem})  # fmt: skip
                continue
            if target["Id"] not in rule.targets and len(rule.targets) >= MAX_TARGETS:
                failed.append({"TargetId": target["Id"], "ErrorCode": "LimitExceededException",
                               "ErrorMessage": f"A rule can have at most {MAX_TARGETS} "
                                               "targets."})  # fmt: skip
                continue
            rule.targets[target["Id"]] = target
            added += 1
        if added:
            events.save_rule(rule)
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def remove_targets(ctx: RequestContext, p: Params) -> Result:
        rule = find_rule(scope_of(ctx), p["Rule"], p.get("EventBusName"))
        for target_id in p["Ids"]:
            rule.targets.pop(target_id, None)
        events.save_rule(rule)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(ctx: RequestContext, p: Params) -> Result:
        rule = find_rule(scope_of(ctx), p["Rule"], p.get("EventBusName"))
        items = sorted(rule.targets.values(), key=lambda t: t["Id"])
        chunk, token = _page(items, lambda t: t["Id"], p, "Limit")
        out: Result = {"Targets": chunk}
        if token:
            out["NextToken"] = token
        return out

    def list_rule_names_by_target(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        bus = events.bus(scope, p.get("EventBusName"))
        names = [r.name for r in events.rules_of(scope, bus.name)
                 if any(t["Arn"] == p["TargetArn"] for t in r.targets.values())]  # fmt: skip
        chunk, token = _page(names, lambda n: n, p, "Limit")
        out: Result = {"RuleNames": chunk}
        if token:
            out["NextToken"] = token
        return out

    # -- events --

    def put_events(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        entries = p["Entries"]
        if not 1 <= len(entries) <= MAX_ENTRIES:
            raise ValidationException(f"Entries must hold 1 to {MAX_ENTRIES} events.")
        results: list[Result] = []
        now = events.clock.now()
        for entry in entries:
            problem = _entry_problem(entry)
            if problem is not None:
                results.append({"ErrorCode": problem[0], "ErrorMessage": problem[1]})
                continue
            try:
                bus = events.bus(scope, entry.get("EventBusName"))
            except ResourceNotFoundException as exc:
                results.append({"ErrorCode": "ResourceNotFoundException",
                                "ErrorMessage": exc.message})  # fmt: skip
                continue
            event = {
                "version": "0",
                "id": new_uuid(),
                "detail-type": entry["DetailType"],
                "source": entry["Source"],
                "account": scope.account_id,
                "time": iso(seconds(entry["Time"]) if entry.get("Time") else now),
                "region": scope.region,
                "resources": list(entry.get("Resources") or []),
                "detail": json.loads(entry["Detail"]),
            }
            events.route(bus, event)
            results.append({"EventId": event["id"]})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    def test_event_pattern(ctx: RequestContext, p: Params) -> Result:
        pattern = validation.event_pattern(p["EventPattern"])
        try:
            event = json.loads(p["Event"])
        except ValueError as exc:
            raise ValidationException(f"Parameter Event is not valid JSON: {exc}") from exc
        if not isinstance(event, dict):
            raise ValidationException("Parameter Event must be a JSON object.")
        for field in ("id", "account", "source", "time", "region", "detail-type"):
            if field not in event:
                raise ValidationException(f"Parameter Event is not valid: {field} is missing.")
        return {"Result": patterns.matches(pattern, event)}

    # -- connections and API destinations --

    def create_connection(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        kind = p["AuthorizationType"]
        if kind == "OAUTH_CLIENT_CREDENTIALS":
            raise ValidationException("OAUTH_CLIENT_CREDENTIALS connections are not supported by "
                                      "Dockyard; use API_KEY or BASIC.")  # fmt: skip
        conn_arn = arn("events", scope.region, scope.account_id,
                       f"connection/{p['Name']}/{new_uuid()}")  # fmt: skip
        if any(c.name == p["Name"] and (c.account_id, c.region) == (scope.account_id, scope.region)
               for c in events.connections.values()):  # fmt: skip
            raise ResourceAlreadyExistsException(f"Connection {p['Name']} already exists.")
        now = events.clock.now()
        connection = Connection(conn_arn, p["Name"], scope.account_id, scope.region, kind,
                                p["AuthParameters"], now, p.get("Description"))  # fmt: skip
        events.save_connection(connection)
        return {"ConnectionArn": conn_arn, "ConnectionState": "AUTHORIZED", "CreationTime": now,
                "LastModifiedTime": now}  # fmt: skip

    def _connection(scope: Scope, name: str) -> Connection:
        for c in events.connections.values():
            if c.name == name and (c.account_id, c.region) == (scope.account_id, scope.region):
                return c
        raise ResourceNotFoundException(f"Failed to describe the connection(s). Connection "
                                        f"'{name}' does not exist.")  # fmt: skip

    def describe_connection(ctx: RequestContext, p: Params) -> Result:
        c = _connection(scope_of(ctx), p["Name"])
        return {"ConnectionArn": c.arn, "Name": c.name, "ConnectionState": c.state,
                "AuthorizationType": c.authorization_type, "CreationTime": c.created,
                "LastModifiedTime": c.created, **({"Description": c.description}
                                                  if c.description else {})}  # fmt: skip

    def delete_connection(ctx: RequestContext, p: Params) -> Result:
        c = _connection(scope_of(ctx), p["Name"])
        events.store.delete("events.connection", c.arn)
        events.connections.pop(c.arn, None)
        return {"ConnectionArn": c.arn, "ConnectionState": "DELETING"}

    def create_api_destination(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if p["ConnectionArn"] not in events.connections:
            raise ResourceNotFoundException(f"Connection {p['ConnectionArn']} does not exist.")
        url = validation.endpoint(p["InvocationEndpoint"])
        if any(d.name == p["Name"] and (d.account_id, d.region) == (scope.account_id, scope.region)
               for d in events.destinations.values()):  # fmt: skip
            raise ResourceAlreadyExistsException(f"Api destination {p['Name']} already exists.")
        dest_arn = arn("events", scope.region, scope.account_id,
                       f"api-destination/{p['Name']}/{new_uuid()}")  # fmt: skip
        now = events.clock.now()
        dest = ApiDestination(dest_arn, p["Name"], scope.account_id, scope.region,
                              p["ConnectionArn"], url, p["HttpMethod"], now, p.get("Description"),
                              int(p.get("InvocationRateLimitPerSecond") or 300))  # fmt: skip
        events.save_destination(dest)
        return {"ApiDestinationArn": dest_arn, "ApiDestinationState": "ACTIVE",
                "CreationTime": now, "LastModifiedTime": now}  # fmt: skip

    def _destination(scope: Scope, name: str) -> ApiDestination:
        for d in events.destinations.values():
            if d.name == name and (d.account_id, d.region) == (scope.account_id, scope.region):
                return d
        raise ResourceNotFoundException(f"Failed to describe the api-destination(s). An "
                                        f"api-destination '{name}' does not exist.")  # fmt: skip

    def describe_api_destination(ctx: RequestContext, p: Params) -> Result:
        d = _destination(scope_of(ctx), p["Name"])
        return {"ApiDestinationArn": d.arn, "Name": d.name, "ApiDestinationState": d.state,
                "ConnectionArn": d.connection_arn, "InvocationEndpoint": d.endpoint,
                "HttpMethod": d.method, "InvocationRateLimitPerSecond": d.rate_limit,
                "CreationTime": d.created, "LastModifiedTime": d.created}  # fmt: skip

    def delete_api_destination(ctx: RequestContext, p: Params) -> Result:
        d = _destination(scope_of(ctx), p["Name"])
        events.store.delete("events.api-destination", d.arn)
        events.destinations.pop(d.arn, None)
        return {}

    # -- tags --

    def _tagged(resource_arn: str) -> tuple[dict[str, str], Any]:
        rule = events.rules.get(resource_arn)
        if rule is not None:
            return rule.tags, lambda: events.save_rule(rule)
        bus = events.buses.get(resource_arn)
        if bus is not None:
            return bus.tags, lambda: events.save_bus(bus)
        raise ResourceNotFoundException(f"Resource {resource_arn} does not exist.")

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        tags, save = _tagged(p["ResourceARN"])
        tags.update(_tags(p["Tags"]))
        save()
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        tags, save = _tagged(p["ResourceARN"])
        for key in p["TagKeys"]:
            tags.pop(key, None)
        save()
        return {}

    def list_tags_for_resource(ctx: RequestContext, p: Params) -> Result:
        tags, _ = _tagged(p["ResourceARN"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}

    return {
        "CreateEventBus": create_event_bus, "DescribeEventBus": describe_event_bus,
        "DeleteEventBus": delete_event_bus, "ListEventBuses": list_event_buses,
        "PutRule": put_rule, "DescribeRule": describe_rule, "DeleteRule": delete_rule,
        "EnableRule": enable_rule, "DisableRule": disable_rule, "ListRules": list_rules,
        "PutTargets": put_targets, "RemoveTargets": remove_targets,
        "ListTargetsByRule": list_targets_by_rule,
        "ListRuleNamesByTarget": list_rule_names_by_target,
        "PutEvents": put_events, "TestEventPattern": test_event_pattern,
        "CreateConnection": create_connection, "DescribeConnection": describe_connection,
        "DeleteConnection": delete_connection, "CreateApiDestination": create_api_destination,
        "DescribeApiDestination": describe_api_destination,
        "DeleteApiDestination": delete_api_destination,
        "TagResource": tag_resource, "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    }  # fmt: skip


def _entry_problem(entry: dict[str, Any]) -> tuple[str, str] | None:
    for field in ("Source", "DetailType", "Detail"):
        if not entry.get(field):
            return "InvalidArgument", f"Parameter {field} is not valid. Reason: {field} is missing."
    if entry["Source"].startswith("aws."):
        return ("NotAuthorizedForSourceException",
                f"Not authorized for the source {entry['Source']}.")  # fmt: skip
    if len(json.dumps(entry, default=str)) > MAX_EVENT_SIZE:  # Time is a datetime
        return "InvalidArgument", "The event is larger than 256 KB."
    try:
        detail = json.loads(entry["Detail"])
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed: it must be a JSON object."
    return None


def _page(
    items: list[Any], key: Any, p: Params, limit_field: str = "Limit"
) -> tuple[list[Any], str | None]:
    try:
        return page(items, key, p.get("NextToken"), p.get(limit_field), 100)
    except InvalidToken as exc:
        raise ValidationException("The NextToken is not valid.") from exc
