"""Alarm operations: metric and composite alarms, their state, history, actions and tags."""

from __future__ import annotations

import json

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.cloudwatch import validation
from dockyard.services.cloudwatch.composite import referenced
from dockyard.services.cloudwatch.errors import (
    InvalidFormatFault,
    InvalidNextToken,
    InvalidParameterValueException,
    ResourceNotFound,
    ResourceNotFoundException,
)
from dockyard.services.cloudwatch.model import Alarm, AlarmState, MetricKey, alarm_arn
from dockyard.services.cloudwatch.service import CloudWatch
from dockyard.services.cloudwatch.wire import seconds

DESCRIBE_PAGE = 50
HISTORY_PAGE = 100
METRIC_FIELDS = (
    "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
    "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
)  # fmt: skip


def _common(alarm: Alarm) -> Result:
    p = alarm.params
    out: Result = {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.arn,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated,
        "ActionsEnabled": alarm.actions_enabled,
        "OKActions": list(p.get("OKActions") or []),
        "AlarmActions": list(p.get("AlarmActions") or []),
        "InsufficientDataActions": list(p.get("InsufficientDataActions") or []),
        "StateValue": alarm.state,
        "StateReason": alarm.state_reason,
        "StateUpdatedTimestamp": alarm.state_updated,
        "StateTransitionedTimestamp": alarm.state_transitioned,
    }
    if p.get("AlarmDescription") is not None:
        out["AlarmDescription"] = p["AlarmDescription"]
    if alarm.state_reason_data:
        out["StateReasonData"] = alarm.state_reason_data
    return out


def metric_alarm_to_wire(alarm: Alarm) -> Result:
    out = _common(alarm)
    for name in METRIC_FIELDS:
        if name in alarm.params:
            out[name] = alarm.params[name]
    out.setdefault("Dimensions", [])
    if "DatapointsToAlarm" not in out:
        out["DatapointsToAlarm"] = out["EvaluationPeriods"]
    out.setdefault("TreatMissingData", "missing")
    return out


def composite_to_wire(alarm: Alarm) -> Result:
    out = _common(alarm)
    out["AlarmRule"] = alarm.params["AlarmRule"]
    return out


def handlers(cw: CloudWatch) -> dict[str, Handler]:
    alarms = cw.alarms

    def put_metric_alarm(ctx: RequestContext, p: Params) -> Result:
        validation.metric_alarm(p)
        validation.actions(p, cw.action_prefixes)
        tags = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
        params = {k: v for k, v in p.items() if k not in ("AlarmName", "Tags")}
        alarms.put(scope_of(ctx), p["AlarmName"], params, composite=False, tags=tags)
        return {}

    def put_composite_alarm(ctx: RequestContext, p: Params) -> Result:
        validation.composite_rule(p["AlarmRule"])
        validation.actions(p, cw.action_prefixes)
        if p.get("ActionsSuppressor"):
            raise InvalidParameterValueException("ActionsSuppressor is not supported by Dockyard.")
        scope = scope_of(ctx)
        for child in referenced(p["AlarmRule"]):
            if alarms.resolve(scope, child) is None:
                raise InvalidParameterValueException(
                    f"Could not save the composite alarm as alarms [{child}] in the alarm rule "
                    "do not exist"
                )
            if child in (p["AlarmName"], alarm_arn(scope, p["AlarmName"])):
                raise InvalidParameterValueException("A composite alarm cannot refer to itself.")
        tags = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
        params = {k: v for k, v in p.items() if k not in ("AlarmName", "Tags")}
        alarms.put(scope, p["AlarmName"], params, composite=True, tags=tags)
        return {}

    def describe_alarms(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = alarms.in_scope(scope)
        if p.get("AlarmNames") and p.get("AlarmNamePrefix"):
            raise InvalidParameterValueException(
                "AlarmNames and AlarmNamePrefix cannot be used together."
            )
        if p.get("AlarmNames"):
            names = set(p["AlarmNames"])
            found = [a for a in found if a.name in names]
        if p.get("AlarmNamePrefix"):
            found = [a for a in found if a.name.startswith(p["AlarmNamePrefix"])]
        types = p.get("AlarmTypes") or ["MetricAlarm"]
        found = [a for a in found if ("CompositeAlarm" if a.composite else "MetricAlarm") in types]
        if p.get("StateValue"):
            found = [a for a in found if a.state == p["StateValue"]]
        if p.get("ActionPrefix"):
            prefix = p["ActionPrefix"]
            found = [a for a in found if any(
                x.startswith(prefix)
                for f in ("AlarmActions", "OKActions", "InsufficientDataActions")
                for x in a.params.get(f) or []
            )]  # fmt: skip
        if p.get("ChildrenOfAlarmName"):
            parent = alarms.get(scope, p["ChildrenOfAlarmName"])
            # A metric alarm has no rule, so no children.
            refs = set(referenced(parent.params["AlarmRule"])) if parent.composite else set()
            found = [a for a in found if a.name in refs or a.arn in refs]
        if p.get("ParentsOfAlarmName"):
            child = alarms.get(scope, p["ParentsOfAlarmName"])
            parents = {a.arn for a in cw.parents_of(child)}
            found = [a for a in found if a.arn in parents]
        try:
            chunk, token = page(
                found, lambda a: a.name, p.get("NextToken"), p.get("MaxRecords"), DESCRIBE_PAGE
            )
        except InvalidToken as exc:
            raise InvalidNextToken("The NextToken is not valid.") from exc
        out: Result = {
            "MetricAlarms": [metric_alarm_to_wire(a) for a in chunk if not a.composite],
            "CompositeAlarms": [composite_to_wire(a) for a in chunk if a.composite],
        }
        if token:
            out["NextToken"] = token
        return out

    def describe_alarms_for_metric(ctx: RequestContext, p: Params) -> Result:
        key = MetricKey.of(p["Namespace"], p["MetricName"], p.get("Dimensions"))
        out = []
        for a in alarms.in_scope(scope_of(ctx)):
            ap = a.params
            if a.composite or "Metrics" in ap:
                continue
            if MetricKey.of(ap["Namespace"], ap["MetricName"], ap.get("Dimensions")) != key:
                continue
            if p.get("Statistic") and ap.get("Statistic") != p["Statistic"]:
                continue
            if p.get("ExtendedStatistic") and ap.get("ExtendedStatistic") != p["ExtendedStatistic"]:
                continue
            if p.get("Period") and ap.get("Period") != p["Period"]:
                continue
            if p.get("Unit") and ap.get("Unit") != p["Unit"]:
                continue
            out.append(metric_alarm_to_wire(a))
        return {"MetricAlarms": out}

    def delete_alarms(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        targets = []
        for name in p["AlarmNames"]:
            alarm = alarms.find(scope, name)
            if alarm is None:
                raise ResourceNotFound(f"Alarm {name} does not exist.")
            targets.append(alarm)
        deleting = {a.arn for a in targets}
        for alarm in targets:
            users = [x.name for x in cw.parents_of(alarm) if x.arn not in deleting]
            if users:
                raise InvalidParameterValueException(
                    f"Alarm {alarm.name} cannot be deleted: composite alarms "
                    f"[{', '.join(users)}] refer to it."
                )
        for alarm in targets:
            alarms.delete(alarm)
        return {}

    def set_alarm_state(ctx: RequestContext, p: Params) -> Result:
        alarm = alarms.get(scope_of(ctx), p["AlarmName"])
        data = None
        if p.get("StateReasonData"):
            try:
                data = json.loads(p["StateReasonData"])
            except ValueError as exc:
                raise InvalidFormatFault("The StateReasonData is not valid JSON.") from exc
        state = p["StateValue"]
        if state not in set(AlarmState):
            raise InvalidParameterValueException(f"Invalid StateValue {state}.")
        alarms.transition(alarm, state, p["StateReason"], data, forced=True)
        return {}

    def describe_alarm_history(ctx: RequestContext, p: Params) -> Result:
        items = alarms.history_of(scope_of(ctx))
        if p.get("AlarmName"):
            items = [h for h in items if h.alarm_name == p["AlarmName"]]
        if p.get("AlarmTypes"):
            items = [h for h in items if h.alarm_type in p["AlarmTypes"]]
        if p.get("HistoryItemType"):
            items = [h for h in items if h.item_type == p["HistoryItemType"]]
        if p.get("StartDate"):
            items = [h for h in items if h.timestamp >= seconds(p["StartDate"])]
        if p.get("EndDate"):
            items = [h for h in items if h.timestamp <= seconds(p["EndDate"])]
        if p.get("ScanBy") == "TimestampAscending":
            items.reverse()
        keyed = [(f"{i:012d}", h) for i, h in enumerate(items)]
        try:
            chunk, token = page(
                keyed, lambda kh: kh[0], p.get("NextToken"), p.get("MaxRecords"), HISTORY_PAGE
            )
        except InvalidToken as exc:
            raise InvalidNextToken("The NextToken is not valid.") from exc
        out: Result = {"AlarmHistoryItems": [
            {"AlarmName": h.alarm_name, "AlarmType": h.alarm_type, "Timestamp": h.timestamp,
             "HistoryItemType": h.item_type, "HistorySummary": h.summary, "HistoryData": h.data}
            for _, h in chunk
        ]}  # fmt: skip
        if token:
            out["NextToken"] = token
        return out

    def _set_actions(ctx: RequestContext, p: Params, enabled: bool) -> Result:
        scope = scope_of(ctx)
        for name in p["AlarmNames"]:
            alarm = alarms.find(scope, name)
            if alarm is None:
                continue
            alarm.actions_enabled = enabled
            alarm.params["ActionsEnabled"] = enabled
            alarms.save(alarm)
        return {}

    def enable_alarm_actions(ctx: RequestContext, p: Params) -> Result:
        return _set_actions(ctx, p, True)

    def disable_alarm_actions(ctx: RequestContext, p: Params) -> Result:
        return _set_actions(ctx, p, False)

    def _by_arn(resource_arn: str) -> Alarm:
        alarm = alarms.by_arn.get(resource_arn)
        if alarm is None:
            raise ResourceNotFoundException(f"The resource {resource_arn} does not exist.")
        return alarm

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        alarm = _by_arn(p["ResourceARN"])
        alarm.tags.update({t["Key"]: t["Value"] for t in p["Tags"]})
        alarms.save(alarm)
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        alarm = _by_arn(p["ResourceARN"])
        for key in p["TagKeys"]:
            alarm.tags.pop(key, None)
        alarms.save(alarm)
        return {}

    def list_tags_for_resource(ctx: RequestContext, p: Params) -> Result:
        alarm = _by_arn(p["ResourceARN"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(alarm.tags.items())]}

    return {
        "PutMetricAlarm": put_metric_alarm,
        "PutCompositeAlarm": put_composite_alarm,
        "DescribeAlarms": describe_alarms,
        "DescribeAlarmsForMetric": describe_alarms_for_metric,
        "DeleteAlarms": delete_alarms,
        "SetAlarmState": set_alarm_state,
        "DescribeAlarmHistory": describe_alarm_history,
        "EnableAlarmActions": enable_alarm_actions,
        "DisableAlarmActions": disable_alarm_actions,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    }
