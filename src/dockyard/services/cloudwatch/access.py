"""What CloudWatch operations act on: alarms (`arn:aws:cloudwatch:<region>:<account>:alarm:<name>`);
metrics operations act on `*`, as AWS lists them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values
from dockyard.services.cloudwatch.service import CloudWatch


def _alarms(param: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        return [req.arn("cloudwatch", f"alarm:{n}") for n in values(req.params, param)]

    return resolve


def _arn(req: AccessRequest) -> Iterable[str]:
    return values(req.params, "ResourceARN")


ONE = _alarms("AlarmName")
MANY = _alarms("AlarmNames")
RESOURCES: dict[str, Resolver] = {
    "PutMetricAlarm": ONE,
    "PutCompositeAlarm": ONE,
    "SetAlarmState": ONE,
    "DescribeAlarmHistory": ONE,
    "DeleteAlarms": MANY,
    "DescribeAlarms": MANY,
    "EnableAlarmActions": MANY,
    "DisableAlarmActions": MANY,
    "TagResource": _arn,
    "UntagResource": _arn,
    "ListTagsForResource": _arn,
}


def access(cw: CloudWatch) -> AccessFunction:
    """CloudWatch's access function, with alarms' tags (aws:ResourceTag/*)."""

    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        found = cw.alarms.by_arn.get(arn)
        return dict(found.tags) if found is not None else None

    return table("cloudwatch", RESOURCES, tags=tags)
