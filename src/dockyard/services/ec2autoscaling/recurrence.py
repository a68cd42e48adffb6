"""The Recurrence of a scheduled action: Unix cron (minute hour day-of-month month
day-of-week, Sunday 0 or 7), read into Dockyard's schedule expressions (`core/schedule.py`,
EventBridge's six-field form, Sunday 1), whose search for the next firing is bounded."""

from __future__ import annotations

from dockyard.core import schedule
from dockyard.services.ec2autoscaling.errors import ValidationError


def _weekday(token: str) -> str:
    """A Unix day-of-week number as EventBridge numbers it (names are alike)."""
    if token.isdigit():
        if not 0 <= int(token) <= 7:
            raise ValidationError(f"Invalid recurrence: day-of-week {token} is not 0-7.")
        return str(int(token) % 7 + 1)
    return token


def _weekdays(field: str) -> str:
    out = []
    for part in field.split(","):
        span, slash, step = part.partition("/")
        low, dash, high = span.partition("-")
        if dash and high == "7" and not slash:
            # ...-7 ends on Sunday, which EventBridge counts first: up to Saturday, and Sunday.
            out.append(f"{_weekday(low)}-7,1")
            continue
        if dash and high == "7":
            raise ValidationError(f"Invalid recurrence: day-of-week {part} (use 0 for Sunday "
                                  "in a stepped range).")  # fmt: skip
        text = f"{_weekday(low)}-{_weekday(high)}" if dash else _weekday(low)
        out.append(f"{text}{slash}{step}")
    return ",".join(out)


def parse(recurrence: str) -> schedule.Schedule:
    fields = recurrence.split()
    if len(fields) != 5:
        raise ValidationError(f"Invalid recurrence {recurrence!r}: a Unix cron expression has "
                              "5 fields (minute hour day-of-month month day-of-week).")  # fmt: skip
    minute, hour, dom, month, dow = fields
    if dom != "*" and dow != "*":
        # Unix cron fires on either; Dockyard's schedules match one of the two.
        raise ValidationError(f"Invalid recurrence {recurrence!r}: Dockyard does not support "
                              "both a day of the month and a day of the week.")  # fmt: skip
    if dow == "*":
        body = f"{minute} {hour} {dom} {month} ? *"
    else:
        body = f"{minute} {hour} ? {month} {_weekdays(dow)} *"
    try:
        return schedule.parse(f"cron({body})")
    except schedule.ScheduleError as exc:
        raise ValidationError(f"Invalid recurrence {recurrence!r}: {exc}.") from exc
