"""Log stream and log event operations: request in, domain call, output shape out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.paging import InvalidToken, decode_token, encode_token
from dockyard.services.logs import patterns, validation
from dockyard.services.logs.errors import InvalidParameterException
from dockyard.services.logs.model import LogGroup, LogStream
from dockyard.services.logs.reading import event_id, filter_group, read_stream
from dockyard.services.logs.service import Logs, sequence_token

T = TypeVar("T")
DESCRIBE_LIMIT = 50


def stream_to_wire(stream: LogStream) -> Result:
    out: Result = {
        "logStreamName": stream.name,
        "creationTime": stream.creation_time,
        "arn": stream.arn,
        "uploadSequenceToken": sequence_token(stream.sequence),
        # Deprecated for streams by AWS in 2019: always reported as zero.
        "storedBytes": 0,
    }
    if stream.first_event is not None:
        out["firstEventTimestamp"] = stream.first_event
    if stream.last_event is not None:
        out["lastEventTimestamp"] = stream.last_event
    if stream.last_ingestion is not None:
        out["lastIngestionTime"] = stream.last_ingestion
    return out


def group_of(logs: Logs, ctx: RequestContext, p: Params) -> LogGroup:
    """The group named by logGroupName or logGroupIdentifier (exactly one of them)."""
    name, identifier = p.get("logGroupName"), p.get("logGroupIdentifier")
    if name and identifier:
        raise InvalidParameterException(
            "LogGroup name and LogGroup identifier are mutually exclusive parameters."
        )
    if not name and not identifier:
        raise InvalidParameterException(
            "Either logGroupName or logGroupIdentifier must be specified."
        )
    if name:
        return logs.directory.group(scope_of(ctx), name)
    return logs.directory.group_by_identifier(scope_of(ctx), str(identifier))


def page_ordered(
    items: Sequence[T],
    key: Callable[[T], str],
    token: str | None,
    limit: int | None,
    descending: bool,
) -> tuple[list[T], str | None]:
    ordered = sorted(items, key=key, reverse=descending)
    if token:
        try:
            after = decode_token(token)
        except InvalidToken as exc:
            raise InvalidParameterException("The specified nextToken is invalid.") from exc
        ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    limit = limit or DESCRIBE_LIMIT
    chunk = ordered[:limit]
    next_token = encode_token(key(chunk[-1])) if len(ordered) > limit and chunk else None
    return chunk, next_token


def handlers(logs: Logs) -> dict[str, Handler]:
    directory = logs.directory

    def create_log_stream(ctx: RequestContext, p: Params) -> Result:
        group = directory.group(scope_of(ctx), p["logGroupName"])
        directory.create_stream(group, validation.stream_name(p["logStreamName"]))
        return {}

    def delete_log_stream(ctx: RequestContext, p: Params) -> Result:
        group = directory.group(scope_of(ctx), p["logGroupName"])
        logs.delete_stream(directory.stream(group, p["logStreamName"]))
        return {}

    def describe_log_streams(ctx: RequestContext, p: Params) -> Result:
        group = group_of(logs, ctx, p)
        prefix = p.get("logStreamNamePrefix")
        by_time = p.get("orderBy") == "LastEventTime"
        if by_time and prefix is not None:
            raise InvalidParameterException(
                "Cannot order by LastEventTime with a logStreamNamePrefix."
            )
        streams = directory.streams_of(group)
        if prefix is not None:
            streams = [s for s in streams if s.name.startswith(prefix)]

        def key(s: LogStream) -> str:
            return f"{s.last_event or 0:020d}/{s.name}" if by_time else s.name

        chunk, token = page_ordered(
            streams, key, p.get("nextToken"), p.get("limit"), bool(p.get("descending"))
        )
        out: Result = {"logStreams": [stream_to_wire(s) for s in chunk]}
        if token:
            out["nextToken"] = token
        return out

    def put_log_events(ctx: RequestContext, p: Params) -> Result:
        # The sequence token is ignored, as AWS now does: batches are always accepted.
        group = directory.group(scope_of(ctx), p["logGroupName"])
        stream = directory.stream(group, p["logStreamName"])
        rejected = logs.ingest(group, stream, validation.batch(p["logEvents"]))
        out: Result = {"nextSequenceToken": sequence_token(stream.sequence)}
        if rejected:
            out["rejectedLogEventsInfo"] = rejected.to_wire()
        return out

    def get_log_events(ctx: RequestContext, p: Params) -> Result:
        group = group_of(logs, ctx, p)
        stream = directory.stream(group, p["logStreamName"])
        result = read_stream(
            logs,
            group,
            stream,
            start=p.get("startTime"),
            end=p.get("endTime"),
            token=p.get("nextToken"),
            start_from_head=bool(p.get("startFromHead", False)),
            limit=p.get("limit"),
        )
        return {
            "events": [
                {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion_time}
                for e in result.events
            ],
            "nextForwardToken": result.forward_token,
            "nextBackwardToken": result.backward_token,
        }

    def filter_log_events(ctx: RequestContext, p: Params) -> Result:
        group = group_of(logs, ctx, p)
        names, prefix = p.get("logStreamNames"), p.get("logStreamNamePrefix")
        if names and prefix is not None:
            raise InvalidParameterException(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
        streams: list[LogStream] | None = None
        if names:
            streams = [s for n in dict.fromkeys(names) if (s := directory.find_stream(group, n))]
        elif prefix is not None:
            streams = [s for s in directory.streams_of(group) if s.name.startswith(prefix)]
        events, token = filter_group(
            logs,
            group,
            streams=streams,
            pattern=patterns.parse(p.get("filterPattern")),
            start=p.get("startTime"),
            end=p.get("endTime"),
            token=p.get("nextToken"),
            limit=p.get("limit"),
        )
        names_by_sid = {s.sid: s.name for s in directory.streams_of(group)}
        out: Result = {
            "events": [
                {
                    "logStreamName": names_by_sid.get(e.sid, ""),
                    "timestamp": e.timestamp,
                    "message": e.message,
                    "ingestionTime": e.ingestion_time,
                    "eventId": event_id(e),
                }
                for e in events
            ],
            # Deprecated by AWS in 2020: now always an empty list.
            "searchedLogStreams": [],
        }
        if token:
            out["nextToken"] = token
        return out

    return {
        "CreateLogStream": create_log_stream,
        "DeleteLogStream": delete_log_stream,
        "DescribeLogStreams": describe_log_streams,
        "PutLogEvents": put_log_events,
        "GetLogEvents": get_log_events,
        "FilterLogEvents": filter_log_events,
    }
