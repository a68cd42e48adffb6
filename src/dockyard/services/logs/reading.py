"""Reading events back: GetLogEvents (one stream, both directions) and FilterLogEvents.

GetLogEvents tokens look like AWS's: `f/<56 digits>/s` (forward) and `b/<56 digits>/s`
(backward). The digits hold a position between events, (timestamp, event id): a forward
token reads the events after it, a backward token those before it. At the end of the
stream, the token passed in comes back unchanged, so a reader can keep polling with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.core.paging import InvalidToken, decode_token, encode_token
from dockyard.services.logs.errors import InvalidParameterException
from dockyard.services.logs.events import Cursor, Event
from dockyard.services.logs.model import LogGroup, LogStream
from dockyard.services.logs.patterns import FilterPattern
from dockyard.services.logs.service import Logs

DEFAULT_LIMIT = 10_000
_TOKEN = re.compile(r"^([fb])/(\d{20})(\d{36})/s$")


def event_id(event: Event) -> str:
    """A 56-digit event id, as FilterLogEvents shows them."""
    return f"{event.timestamp:020d}{event.id:036d}"


def stream_token(direction: str, cursor: Cursor) -> str:
    return f"{direction}/{cursor[0]:020d}{cursor[1]:036d}/s"


def parse_stream_token(token: str) -> tuple[str, Cursor]:
    match = _TOKEN.match(token)
    if match is None:
        raise InvalidParameterException("The specified nextToken is invalid.")
    return match.group(1), (int(match.group(2)), int(match.group(3)))


@dataclass(slots=True)
class StreamPage:
    events: list[Event]
    forward_token: str
    backward_token: str


def read_stream(
    logs: Logs,
    group: LogGroup,
    stream: LogStream,
    *,
    start: int | None = None,
    end: int | None = None,
    token: str | None = None,
    start_from_head: bool = False,
    limit: int | None = None,
) -> StreamPage:
    logs.maybe_purge()
    window = logs.window(group, start, end)
    limit = limit or DEFAULT_LIMIT
    sid = stream.sid
    if token:
        direction, cursor = parse_stream_token(token)
        if direction == "f":
            events = logs.events.stream_events(sid, window, after=cursor, limit=limit)
        else:
            events = logs.events.stream_events(
                sid, window, before=cursor, newest_first=True, limit=limit
            )
        if not events:
            return StreamPage([], stream_token("f", cursor), stream_token("b", cursor))
    else:
        events = logs.events.stream_events(
            sid, window, newest_first=not start_from_head, limit=limit
        )
        if not events:
            # Nothing yet: a forward token from the start of the range sees what comes next.
            return StreamPage(
                [], stream_token("f", (window.start, 0)), stream_token("b", (window.end, 0))
            )
    return StreamPage(
        events, stream_token("f", events[-1].cursor), stream_token("b", events[0].cursor)
    )


def filter_group(
    logs: Logs,
    group: LogGroup,
    *,
    streams: list[LogStream] | None,
    pattern: FilterPattern,
    start: int | None = None,
    end: int | None = None,
    token: str | None = None,
    limit: int | None = None,
) -> tuple[list[Event], str | None]:
    """Matching events of a group's streams (all when `streams` is None), interleaved by time;
    and the token of the next page, if any."""
    logs.maybe_purge()
    after: Cursor | None = None
    if token:
        try:
            ts, _, id_ = decode_token(token).partition(":")
            after = (int(ts), int(id_))
        except (InvalidToken, ValueError) as exc:
            raise InvalidParameterException("The specified nextToken is invalid.") from exc
    if streams is not None and not streams:
        return [], None
    events, more = logs.events.group_events(
        group.gid,
        logs.window(group, start, end),
        sids=None if streams is None else [s.sid for s in streams],
        pattern=pattern,
        after=after,
        limit=limit or DEFAULT_LIMIT,
    )
    next_token = None
    if more and events:
        last = events[-1]
        next_token = encode_token(f"{last.timestamp}:{last.id}")
    return events, next_token
