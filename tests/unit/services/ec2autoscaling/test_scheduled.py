"""Scheduled actions: AWS's checks, Unix cron recurrences in a time zone, what a run does to
the group, and the controller that runs them on the injected clock."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from dockyard.controllers.asg_schedules import AsgScheduleController
from dockyard.services.ec2autoscaling import groups, recurrence, scheduled
from dockyard.services.ec2autoscaling.errors import ValidationError
from dockyard.services.ec2autoscaling.model import Process
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling
from tests.unit.services.ec2autoscaling.fakes import SCOPE
from tests.unit.services.ec2autoscaling.test_ops import GROUP, Api

NOW = dt.datetime.fromtimestamp(1_700_000_000, dt.UTC)  # 2023-11-14T22:13:20Z, a Tuesday


def at(hours: float) -> dt.datetime:
    return NOW + dt.timedelta(hours=hours)


def stamp(seconds: float | None) -> str:
    assert seconds is not None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%a %Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [("0 9 * * *", NOW, "Wed 2023-11-15T09:00"),
     ("30 18 * * 1-5", NOW, "Wed 2023-11-15T18:30"),
     ("0 0 * * 0", NOW, "Sun 2023-11-19T00:00"),
     ("0 0 * * 7", NOW, "Sun 2023-11-19T00:00"),
     ("0 12 * * 5-7", NOW, "Fri 2023-11-17T12:00"),
     ("0 0 1 * *", NOW, "Fri 2023-12-01T00:00"),
     ("*/20 * * * *", NOW, "Tue 2023-11-14T22:20")],
)  # fmt: skip
def test_recurrences_are_unix_cron(expression: str, after: dt.datetime, expected: str) -> None:
    ts = after.timestamp()
    assert stamp(recurrence.parse(expression).next_time(ts, ts)) == expected


@pytest.mark.parametrize(
    ("expression", "words"),
    [("0 9 * *", "5 fields"), ("0 9 1 * 1", "both a day of the month and a day of the week"),
     ("0 25 * * *", "out of range"), ("0 0 * * 8", "not 0-7")],
)  # fmt: skip
def test_bad_recurrences_are_refused_in_words(expression: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        recurrence.parse(expression)


def test_put_describe_and_delete(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    api("PutScheduledUpdateGroupAction", AutoScalingGroupName="web",
        ScheduledActionName="mornings", Recurrence="0 9 * * 1-5", MinSize=2, MaxSize=4,
        DesiredCapacity=3, TimeZone="Europe/Paris")  # fmt: skip
    api("PutScheduledUpdateGroupAction", AutoScalingGroupName="web",
        ScheduledActionName="once", StartTime=at(2), DesiredCapacity=2)  # fmt: skip
    out = api("DescribeScheduledActions", AutoScalingGroupName="web")
    mornings, once = out["ScheduledUpdateGroupActions"]
    assert mornings["ScheduledActionARN"].startswith(
        "arn:aws:autoscaling:us-east-1:123456789012:scheduledUpdateGroupAction:"
    )
    assert mornings["ScheduledActionARN"].endswith(
        ":autoScalingGroupName/web:scheduledActionName/mornings")  # fmt: skip
    assert stamp(mornings["StartTime"]) == "Wed 2023-11-15T08:00"  # 09:00 in Paris
    assert (mornings["Recurrence"], mornings["TimeZone"]) == ("0 9 * * 1-5", "Europe/Paris")
    assert once["StartTime"] == once["Time"] == at(2).timestamp()
    window = api("DescribeScheduledActions", StartTime=at(1), EndTime=at(3))
    assert [a["ScheduledActionName"] for a in window["ScheduledUpdateGroupActions"]] == ["once"]
    api("DeleteScheduledAction", AutoScalingGroupName="web", ScheduledActionName="once")
    err = api.error("DeleteScheduledAction", AutoScalingGroupName="web",
                    ScheduledActionName="once")  # fmt: skip
    assert err.code == "ValidationError" and "once" in err.message
    api("DeleteAutoScalingGroup", AutoScalingGroupName="web")
    assert api.w.asg.scheduled == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [({"StartTime": at(1)}, "At least one of MinSize, MaxSize, or DesiredCapacity must be "
      "specified."),
     ({"DesiredCapacity": 1}, "Either StartTime or Recurrence must be specified."),
     ({"StartTime": at(-1), "MinSize": 1}, "Given start time is in the past"),
     ({"Recurrence": "0 9 * * *", "StartTime": at(5), "EndTime": at(4), "MinSize": 1},
      "Start time must be before end time"),
     ({"StartTime": at(1), "Time": at(1), "MinSize": 1}, "Time and StartTime cannot both"),
     ({"Recurrence": "0 9 * * *", "MinSize": 1, "TimeZone": "Mars/Olympus"},
      "Invalid time zone Mars/Olympus"),
     ({"Recurrence": "0 9 * * *", "MinSize": 3, "MaxSize": 2}, "Max bound, 2, must be")],
)  # fmt: skip
def test_put_refuses_as_aws_does(api: Api, extra: dict[str, Any], message: str) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    err = api.error("PutScheduledUpdateGroupAction", AutoScalingGroupName="web",
                    ScheduledActionName="x", **extra)  # fmt: skip
    assert err.code == "ValidationError" and err.message.startswith(message)
    assert api.w.asg.scheduled == {}


def test_batches_answer_what_failed_and_keep_the_rest(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    out = api("BatchPutScheduledUpdateGroupAction", AutoScalingGroupName="web",
              ScheduledUpdateGroupActions=[
                  {"ScheduledActionName": "a", "Recurrence": "0 9 * * *", "MinSize": 1},
                  {"ScheduledActionName": "b", "StartTime": at(-1), "MinSize": 1}])  # fmt: skip
    assert out["FailedScheduledUpdateGroupActions"] == [
        {"ScheduledActionName": "b", "ErrorCode": "ValidationError",
         "ErrorMessage": "Given start time is in the past"}]  # fmt: skip
    out = api("BatchDeleteScheduledAction", AutoScalingGroupName="web",
              ScheduledActionNames=["a", "zz"])  # fmt: skip
    assert [f["ScheduledActionName"] for f in out["FailedScheduledActions"]] == ["zz"]
    assert api.w.asg.scheduled == {}


def test_a_run_sets_the_sizes_in_awss_words_and_a_one_time_action_goes(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    api("PutScheduledUpdateGroupAction", AutoScalingGroupName="web",
        ScheduledActionName="peak", StartTime=at(1), MinSize=2, DesiredCapacity=3)  # fmt: skip
    (action,) = api.w.asg.scheduled.values()
    api.w.clock.advance(3600)
    scheduled.run(api.w.asg, action)
    g = api.w.asg.group(SCOPE, "web")
    assert (g.min_size, g.max_size, g.desired) == (2, 4, 3)
    assert g.capacity_cause == ("At 2023-11-14T23:13:20Z a scheduled action update of "
                                "AutoScalingGroup constraints to min: 2, max: 4, desired: 3 "
                                "changing the desired capacity from 1 to 3.")  # fmt: skip
    assert api.w.asg.scheduled == {}


def test_a_suspended_group_skips_the_run(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    api("PutScheduledUpdateGroupAction", AutoScalingGroupName="web",
        ScheduledActionName="hourly", Recurrence="0 * * * *", DesiredCapacity=3)  # fmt: skip
    groups.suspend(api.w.asg, SCOPE, "web", [Process.SCHEDULED_ACTIONS])
    (action,) = api.w.asg.scheduled.values()
    scheduled.run(api.w.asg, action)
    assert api.w.asg.group(SCOPE, "web").desired == 1
    (kept,) = api.w.asg.scheduled.values()
    assert kept.last_run == api.w.clock.now()


def test_the_controller_runs_actions_at_their_time_and_survives_a_restart(api: Api) -> None:
    api("CreateAutoScalingGroup", **GROUP)
    api("PutScheduledUpdateGroupAction", AutoScalingGroupName="web",
        ScheduledActionName="hourly", Recurrence="0 * * * *", DesiredCapacity=3)  # fmt: skip
    (arn,) = api.w.asg.scheduled
    ctl = AsgScheduleController(api.w.asg, api.w.clock)
    wait = asyncio.run(ctl.reconcile(arn))
    assert wait == pytest.approx(46 * 60 + 40)  # 22:13:20 -> 23:00
    api.w.clock.advance(wait or 0)
    assert asyncio.run(ctl.reconcile(arn)) is None
    assert api.w.asg.group(SCOPE, "web").desired == 3
    again = Ec2AutoScaling(api.w.store, api.w.clock)
    again.load()
    (action,) = again.scheduled.values()
    assert stamp(scheduled.next_run(action)) == "Wed 2023-11-15T00:00"
    assert asyncio.run(AsgScheduleController(again, api.w.clock).reconcile(arn)) == 3600
