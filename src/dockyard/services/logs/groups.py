"""Log groups and their log streams: in memory, written through to the store."""

from __future__ import annotations

from dockyard.core.clock import Clock
from dockyard.core.ids import is_arn
from dockyard.core.scope import Scope
from dockyard.services.logs.errors import (
    GROUP_EXISTS,
    GROUP_NOT_FOUND,
    STREAM_EXISTS,
    STREAM_NOT_FOUND,
    InvalidParameterException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from dockyard.services.logs.model import LogGroup, LogStream, group_arn
from dockyard.store.base import Store
from dockyard.store.undo import put_record

GROUP_KIND = "logs.group"
STREAM_KIND = "logs.stream"


def now_ms(clock: Clock) -> int:
    return int(clock.now() * 1000)


def parse_group_arn(value: str) -> tuple[Scope, str]:
    """(scope, name) of `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`."""
    parts = value.split(":", 6)
    if len(parts) != 7 or parts[2] != "logs" or parts[5] != "log-group" or not parts[6]:
        raise InvalidParameterException(f"Invalid log group ARN: {value}")
    name = parts[6].removesuffix(":*")
    if ":" in name:
        raise InvalidParameterException(f"Not a log group ARN: {value}")
    return Scope(parts[4], parts[3]), name


class Directory:
    """Every log group and log stream of every account and region."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.groups: dict[str, LogGroup] = {}  # by ARN
        self.streams: dict[str, dict[str, LogStream]] = {}  # group ARN -> name -> stream
        self._last_gid = 0
        self._last_sid = 0

    def load(self, last_gid: int = 0, last_sid: int = 0) -> None:
        """Reload from the store; numbers already used in the event log are never reused."""
        self.reset()
        for key, body in self.store.load(GROUP_KIND):
            self.groups[key] = LogGroup(**body)
            self.streams[key] = {}
        for _key, body in self.store.load(STREAM_KIND):
            stream = LogStream(**body)
            self.streams.setdefault(stream.group_arn, {})[stream.name] = stream
            last_sid = max(last_sid, stream.sid)
        gids = [g.gid for g in self.groups.values()]
        self._last_gid = max([last_gid, *gids])
        self._last_sid = last_sid

    def reset(self) -> None:
        self.groups.clear()
        self.streams.clear()

    def save_group(self, group: LogGroup) -> None:
        put_record(self.store, GROUP_KIND, group.arn, group, lambda b: LogGroup(**b))
        self.groups[group.arn] = group

    def save_stream(self, stream: LogStream) -> None:
        put_record(self.store, STREAM_KIND, stream.arn, stream, lambda b: LogStream(**b))
        self.streams[stream.group_arn][stream.name] = stream

    # Log groups

    def find_group(self, scope: Scope, name: str) -> LogGroup | None:
        return self.groups.get(group_arn(scope, name))

    def group(self, scope: Scope, name: str) -> LogGroup:
        group = self.find_group(scope, name)
        if group is None:
            raise ResourceNotFoundException(GROUP_NOT_FOUND)
        return group

    def group_by_identifier(self, scope: Scope, identifier: str) -> LogGroup:
        """A log group named by its name or its ARN (with or without `:*`)."""
        if not is_arn(identifier):
            return self.group(scope, identifier)
        owner, name = parse_group_arn(identifier)
        if owner != scope:
            # Cross-account observability (linked source accounts) is not modelled.
            raise ResourceNotFoundException(GROUP_NOT_FOUND)
        return self.group(scope, name)

    def create_group(
        self,
        scope: Scope,
        name: str,
        *,
        log_group_class: str = "STANDARD",
        tags: dict[str, str] | None = None,
        deletion_protection: bool = False,
    ) -> LogGroup:
        if self.find_group(scope, name) is not None:
            raise ResourceAlreadyExistsException(GROUP_EXISTS)
        self._last_gid += 1
        group = LogGroup(
            arn=group_arn(scope, name),
            name=name,
            account_id=scope.account_id,
            region=scope.region,
            gid=self._last_gid,
            creation_time=now_ms(self.clock),
            log_group_class=log_group_class,
            deletion_protection=deletion_protection,
            tags=dict(tags or {}),
        )
        self.streams[group.arn] = {}
        self.save_group(group)
        return group

    def delete_group(self, group: LogGroup) -> None:
        streams = self.streams.get(group.arn, {}).values()
        self.store.write(
            deletes=[(STREAM_KIND, s.arn) for s in streams] + [(GROUP_KIND, group.arn)]
        )
        self.streams.pop(group.arn, None)
        self.groups.pop(group.arn, None)

    def list_groups(self, scope: Scope) -> list[LogGroup]:
        return sorted((g for g in self.groups.values() if g.scope == scope), key=lambda g: g.name)

    # Log streams

    def streams_of(self, group: LogGroup) -> list[LogStream]:
        return list(self.streams.get(group.arn, {}).values())

    def find_stream(self, group: LogGroup, name: str) -> LogStream | None:
        return self.streams.get(group.arn, {}).get(name)

    def stream(self, group: LogGroup, name: str) -> LogStream:
        stream = self.find_stream(group, name)
        if stream is None:
            raise ResourceNotFoundException(STREAM_NOT_FOUND)
        return stream

    def create_stream(self, group: LogGroup, name: str) -> LogStream:
        if self.find_stream(group, name) is not None:
            raise ResourceAlreadyExistsException(STREAM_EXISTS)
        self._last_sid += 1
        stream = LogStream(
            group_arn=group.arn, name=name, sid=self._last_sid, creation_time=now_ms(self.clock)
        )
        self.save_stream(stream)
        return stream

    def delete_stream(self, stream: LogStream) -> None:
        self.store.delete(STREAM_KIND, stream.arn)
        self.streams.get(stream.group_arn, {}).pop(stream.name, None)
