"""SNS topics as the action of a CloudWatch alarm (`arn:aws:sns:...` in AlarmActions,
OKActions, InsufficientDataActions): each state change publishes the JSON message CloudWatch
sends, as `cloudwatch.amazonaws.com` on behalf of the alarm's account, through the
`TopicPublisher` port."""

from __future__ import annotations

import json
import logging
from typing import Any

from dockyard.core import timefmt
from dockyard.core.scaling import AlarmFiring
from dockyard.core.topics import PublishRefused, TopicPublisher
from dockyard.services.cloudwatch.model import Alarm
from dockyard.services.cloudwatch.service import CloudWatch

log = logging.getLogger(__name__)

PREFIX = "arn:aws:sns:"
PRINCIPAL = "cloudwatch.amazonaws.com"
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)",
    "ap-southeast-1": "Asia Pacific (Singapore)", "ap-northeast-1": "Asia Pacific (Tokyo)",
}  # fmt: skip


def _previous_state(cloudwatch: CloudWatch, alarm: Alarm) -> str:
    for item in reversed(cloudwatch.alarms.history.get(alarm.arn, [])):
        if item.item_type == "StateUpdate":
            data = json.loads(item.data) if isinstance(item.data, str) else item.data
            return str(((data or {}).get("oldState") or {}).get("stateValue", ""))
    return "INSUFFICIENT_DATA"


def alarm_message(alarm: Alarm, previous: str) -> dict[str, Any]:
    """The notification CloudWatch publishes for a metric alarm's state change."""
    p = alarm.params
    trigger: dict[str, Any] = {
        "MetricName": p.get("MetricName"),
        "Namespace": p.get("Namespace"),
        "StatisticType": "ExtendedStatistic" if p.get("ExtendedStatistic") else "Statistic",
        "Statistic": str(p.get("Statistic") or p.get("ExtendedStatistic") or "").upper(),
        "Unit": p.get("Unit"),
        "Dimensions": [{"value": d.get("Value"), "name": d.get("Name")}
                       for d in p.get("Dimensions") or []],
        "Period": p.get("Period"),
        "EvaluationPeriods": p.get("EvaluationPeriods"),
        "DatapointsToAlarm": p.get("DatapointsToAlarm") or p.get("EvaluationPeriods"),
        "ComparisonOperator": p.get("ComparisonOperator"),
        "Threshold": p.get("Threshold"),
        "TreatMissingData": p.get("TreatMissingData", "missing"),
        "EvaluateLowSampleCountPercentile": "",
    }  # fmt: skip
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": p.get("AlarmDescription"),
        "AWSAccountId": alarm.account_id,
        "AlarmConfigurationUpdatedTimestamp": timefmt.iso(
            alarm.configuration_updated, "ms", "+0000"
        ),
        "NewStateValue": alarm.state,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": timefmt.iso(alarm.state_updated, "ms", "+0000"),
        "Region": REGION_NAMES.get(alarm.region, alarm.region),
        "AlarmArn": alarm.arn,
        "OldStateValue": previous,
        "OKActions": list(p.get("OKActions") or []),
        "AlarmActions": list(p.get("AlarmActions") or []),
        "InsufficientDataActions": list(p.get("InsufficientDataActions") or []),
        "Trigger": trigger,
    }


class AlarmTopics:
    """`core.scaling.AlarmActions` for SNS topic ARNs."""

    def __init__(self, cloudwatch: CloudWatch, topics: TopicPublisher) -> None:
        self.cloudwatch = cloudwatch
        self.topics = topics

    def invoke(self, account_id: str, region: str, action_arn: str, firing: AlarmFiring) -> bool:
        if not action_arn.startswith(PREFIX):
            return False
        if firing.repeat:  # one notification per state change, as CloudWatch sends
            return True
        alarm = self.cloudwatch.alarms.by_arn.get(firing.alarm_arn)
        if alarm is None:
            return True
        message = alarm_message(alarm, _previous_state(self.cloudwatch, alarm))
        where = REGION_NAMES.get(region, region)
        subject = f'{alarm.state}: "{alarm.name}" in {where}'
        if len(subject) > 100:
            subject = subject[:97] + "..."
        try:
            self.topics.publish(action_arn, json.dumps(message), subject=subject,
                                principal=PRINCIPAL, source_arn=alarm.arn)  # fmt: skip
        except PublishRefused as exc:
            log.warning("alarm %s: cannot publish to %s: %s", alarm.name, action_arn, exc,
                        extra={"alarm_arn": alarm.arn})  # fmt: skip
            self.cloudwatch.alarms.record(
                alarm, "Action", f"Failed to execute action {action_arn}. Received error: "
                f'"{exc.message}"', {"actionState": "Failed", "notificationResource": action_arn},
            )  # fmt: skip
            return False
        return True
