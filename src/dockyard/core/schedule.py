"""Schedule expressions as EventBridge rules and Application Auto Scaling scheduled actions
write them: `rate(5 minutes)`, `cron(0 12 * * ? *)` (minutes hours day-of-month month
day-of-week year; `?`, `L`, `W`, `#`, names), and `at(2025-01-01T00:00:00)` (scheduled
actions only). `next_time(expr, after, tz)` is pure."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
MONTHS = {m: i for i, m in enumerate(MONTH_NAMES, 1)}
DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
SEARCH_DAYS = 366 * 5


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Field:
    values: frozenset[int]
    any: bool = False  # * or ?
    last: bool = False  # L (day of month)
    weekday: int | None = None  # nW (day of month)
    last_dow: int | None = None  # nL (day of week)
    nth: tuple[int, int] | None = None  # (dow, n) for d#n


def _number(token: str, names: dict[str, int], lo: int, hi: int) -> int:
    value = names.get(token.upper()) if names else None
    if value is None:
        if not token.isdigit():
            raise ScheduleError(f"invalid value {token!r}")
        value = int(token)
    if not lo <= value <= hi:
        raise ScheduleError(f"value {token} out of range {lo}-{hi}")
    return value


def _field(text: str, lo: int, hi: int, names: dict[str, int], kind: str) -> Field:
    if text in ("*", "?"):
        return Field(frozenset(range(lo, hi + 1)), any=True)
    if kind == "dom" and text == "L":
        return Field(frozenset(), last=True)
    if kind == "dom" and text.endswith("W"):
        return Field(frozenset(), weekday=_number(text[:-1], {}, 1, 31))
    if kind == "dow" and text.endswith("L") and len(text) > 1:
        return Field(frozenset(), last_dow=_number(text[:-1], names, 1, 7))
    if kind == "dow" and "#" in text:
        day, n = text.split("#", 1)
        return Field(frozenset(), nth=(_number(day, names, 1, 7), _number(n, {}, 1, 5)))
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = _number(step_text, {}, 1, hi)
        if part in ("*", ""):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _number(a, names, lo, hi), _number(b, names, lo, hi)
        else:
            start = _number(part, names, lo, hi)
            end = hi if step > 1 or "/" in text else start
        values.update(range(start, end + 1, step))
    return Field(frozenset(values))


@dataclass(frozen=True, slots=True)
class Cron:
    minutes: Field
    hours: Field
    dom: Field
    months: Field
    dow: Field
    years: Field

    def day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months.values or day.year not in self.years.values:
            return False
        last_day = calendar.monthrange(day.year, day.month)[1]
        aws_dow = (day.isoweekday() % 7) + 1  # SUN=1 .. SAT=7
        dom, dow = self.dom, self.dow
        if dom.last:
            dom_ok = day.day == last_day
        elif dom.weekday is not None:
            dom_ok = day == _nearest_weekday(day.year, day.month, dom.weekday)
        else:
            dom_ok = day.day in dom.values
        if dow.last_dow is not None:
            dow_ok = aws_dow == dow.last_dow and day.day + 7 > last_day
        elif dow.nth is not None:
            dow_ok = aws_dow == dow.nth[0] and (day.day - 1) // 7 + 1 == dow.nth[1]
        else:
            dow_ok = aws_dow in dow.values
        return dom_ok and dow_ok


def _nearest_weekday(year: int, month: int, day: int) -> dt.date:
    last = calendar.monthrange(year, month)[1]
    target = dt.date(year, month, min(day, last))
    if target.weekday() == 5:  # Saturday -> Friday, or Monday at the month's start
        return target - dt.timedelta(days=1) if target.day > 1 else target + dt.timedelta(days=2)
    if target.weekday() == 6:  # Sunday -> Monday, or Friday at the month's end
        return target + dt.timedelta(days=1) if target.day < last else target - dt.timedelta(days=2)
    return target


def parse_cron(body: str) -> Cron:
    parts = body.split()
    if len(parts) != 6:
        raise ScheduleError("a cron expression has 6 fields: minutes hours day-of-month month "
                            "day-of-week year")  # fmt: skip
    cron = Cron(
        _field(parts[0], 0, 59, {}, "min"),
        _field(parts[1], 0, 23, {}, "hour"),
        _field(parts[2], 1, 31, {}, "dom"),
        _field(parts[3], 1, 12, MONTHS, "month"),
        _field(parts[4], 1, 7, DAYS, "dow"),
        _field(parts[5], 1970, 2199, {}, "year"),
    )
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ScheduleError("exactly one of day-of-month and day-of-week must be '?'")
    return cron


@dataclass(frozen=True, slots=True)
class Schedule:
    kind: str  # rate | cron | at
    rate_seconds: int = 0
    cron: Cron | None = None
    at: dt.datetime | None = None  # naive, in the schedule's time zone

    def next_time(self, after: float, origin: float, tz: str | None = None) -> float | None:
        """The first firing strictly after `after` (epoch seconds); None when there is none.
        Rates count from `origin` (when the schedule was created)."""
        zone = zone_of(tz)
        if self.kind == "rate":
            periods = int((after - origin) // self.rate_seconds) + 1
            return origin + periods * self.rate_seconds
        if self.kind == "at":
            assert self.at is not None
            when = self.at.replace(tzinfo=zone).timestamp()
            return when if when > after else None
        assert self.cron is not None
        start = dt.datetime.fromtimestamp(after, zone).replace(second=0, microsecond=0)
        start += dt.timedelta(minutes=1)
        day = start.date()
        for _ in range(SEARCH_DAYS):
            if self.cron.day_matches(day):
                for hour in sorted(self.cron.hours.values):
                    for minute in sorted(self.cron.minutes.values):
                        moment = dt.datetime(day.year, day.month, day.day, hour, minute,
                                             tzinfo=zone)  # fmt: skip
                        if moment >= start:
                            return moment.timestamp()
            day += dt.timedelta(days=1)
        return None


def zone_of(tz: str | None) -> dt.tzinfo:
    if not tz or tz in ("UTC", "Etc/UTC"):
        return dt.UTC
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {tz!r}") from exc


def parse(expression: str, *, allow_at: bool = False) -> Schedule:
    text = expression.strip()
    if match := _RATE.match(text):
        value, unit = int(match[1]), match[2]
        if value <= 0:
            raise ScheduleError("a rate must be positive")
        if (value == 1) != (not unit.endswith("s")):
            raise ScheduleError(f"use '{unit.rstrip('s')}' for 1 and '{unit.rstrip('s')}s' "
                                "for more")  # fmt: skip
        return Schedule("rate", rate_seconds=value * UNIT_SECONDS[unit.rstrip("s")])
    if match := _CRON.match(text):
        return Schedule("cron", cron=parse_cron(match[1]))
    if allow_at and (match := _AT.match(text)):
        return Schedule("at", at=dt.datetime.fromisoformat(match[1]))
    raise ScheduleError(f"invalid schedule expression {expression!r}")
