"""The CloudWatch Logs service: groups and streams, the event log, ingestion and retention.

`Logs(store, clock, events_path)`: groups and streams are store records (`logs.group`,
`logs.stream`); events live in the event log, a SQLite database at `events_path`
(`<data dir>/logs.sqlite3` in a server; None keeps them in memory). Call `load()` once at
start and `close()` at shutdown.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.logs import validation
from dockyard.services.logs.errors import InvalidParameterException
from dockyard.services.logs.events import EventLog, Window, message_size
from dockyard.services.logs.groups import Directory, now_ms
from dockyard.services.logs.model import LogGroup, LogStream
from dockyard.store.base import Store

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000
TOO_OLD_MS = 14 * DAY_MS
TOO_NEW_MS = 2 * 3600 * 1000
PURGE_INTERVAL = 60.0  # seconds of clock time between sweeps of expired events


def sequence_token(sequence: int) -> str:
    return f"{sequence:056d}"


@dataclass(slots=True)
class Rejected:
    """Indexes of the events of a batch that were not stored (rejectedLogEventsInfo)."""

    too_old_end: int | None = None
    too_new_start: int | None = None
    expired_end: int | None = None

    def __bool__(self) -> bool:
        return bool(self.to_wire())

    def to_wire(self) -> dict[str, int]:
        out: dict[str, int] = {}
        if self.too_new_start is not None:
            out["tooNewLogEventStartIndex"] = self.too_new_start
        if self.too_old_end is not None:
            out["tooOldLogEventEndIndex"] = self.too_old_end
        if self.expired_end is not None:
            out["expiredLogEventEndIndex"] = self.expired_end
        return out


class Logs:
    def __init__(self, store: Store, clock: Clock, events_path: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self.directory = Directory(store, clock)
        self.events = EventLog(events_path)
        self._last_purge = -math.inf

    def load(self) -> None:
        last_gid, last_sid = self.events.max_ids()
        self.directory.load(last_gid, last_sid)

    def reset(self) -> None:
        """Forget everything (the store has been wiped): events go too."""
        self.directory.reset()
        self.events.clear()

    def close(self) -> None:
        self.events.close()

    # Retention

    def retention_cutoff(self, group: LogGroup) -> int:
        """Events older than this (epoch ms) have expired under the group's retention."""
        if group.retention_in_days is None:
            return 0
        return now_ms(self.clock) - group.retention_in_days * DAY_MS

    def window(self, group: LogGroup, start: int | None, end: int | None) -> Window:
        """The readable time range: the asked range without what retention has expired."""
        base = Window()
        return Window(
            start=max(start or 0, self.retention_cutoff(group)),
            end=base.end if end is None else end,
        )

    def purge_expired(self) -> int:
        """Delete the events that retention has expired; the number of bytes freed."""
        self._last_purge = self.clock.now()
        freed_total = 0
        for group in list(self.directory.groups.values()):
            if group.retention_in_days is None:
                continue
            freed = self.events.expire(group.gid, self.retention_cutoff(group))
            if not freed:
                continue
            for stream in self.directory.streams_of(group):
                if stream.sid in freed:
                    stream.stored_bytes = max(0, stream.stored_bytes - freed[stream.sid])
                    self.directory.save_stream(stream)
                    freed_total += freed[stream.sid]
        if freed_total:
            log.info("logs: retention purged %d bytes of expired events", freed_total)
        return freed_total

    def maybe_purge(self) -> None:
        if self.clock.now() - self._last_purge >= PURGE_INTERVAL:
            self.purge_expired()

    def delete_group(self, group: LogGroup) -> None:
        self.events.delete_group(group.gid)
        self.directory.delete_group(group)

    def delete_stream(self, stream: LogStream) -> None:
        self.events.delete_stream(stream.sid)
        self.directory.delete_stream(stream)

    def stored_bytes(self, group: LogGroup) -> int:
        return sum(s.stored_bytes for s in self.directory.streams_of(group))

    # Ingestion

    def ingest(self, group: LogGroup, stream: LogStream, batch: list[tuple[int, str]]) -> Rejected:
        """Store a chronological batch; events too old, too new or expired are rejected."""
        self.maybe_purge()
        now = now_ms(self.clock)
        oldest, newest = now - TOO_OLD_MS, now + TOO_NEW_MS
        cutoff = self.retention_cutoff(group)
        rejected = Rejected()
        accepted: list[tuple[int, str]] = []
        for index, (ts, message) in enumerate(batch):
            if ts < oldest:
                rejected.too_old_end = index
            if group.retention_in_days is not None and ts < cutoff:
                rejected.expired_end = index
            if ts > newest:
                if rejected.too_new_start is None:
                    rejected.too_new_start = index
                continue
            if ts >= oldest and ts >= cutoff:
                accepted.append((ts, message))
        if accepted:
            self.events.append(group.gid, stream.sid, accepted, now)
            first, last = accepted[0][0], accepted[-1][0]
            stream.first_event = (
                first if stream.first_event is None else min(stream.first_event, first)
            )
            stream.last_event = last if stream.last_event is None else max(stream.last_event, last)
            stream.last_ingestion = now
            stream.stored_bytes += sum(message_size(m) for _, m in accepted)
        stream.sequence += 1
        self.directory.save_stream(stream)
        return rejected

    def put_events(
        self,
        account_id: str,
        region: str,
        group: str,
        stream: str,
        events: list[tuple[int, str]],
        create_group: bool,
    ) -> None:
        """Deliver container output (timestamp ms, message) to a log stream, as the awslogs
        log driver does: the stream is created when missing; the group only when
        `create_group` (awslogs-create-group), else the events are dropped with a warning."""
        scope = Scope(account_id, region)
        try:
            validation.group_name(group)
            validation.stream_name(stream)
        except InvalidParameterException as exc:
            log.warning(
                "logs: dropped %d events for %s/%s: %s", len(events), group, stream, exc.message,
                extra={"log_group": group, "account_id": account_id, "region": region},
            )  # fmt: skip
            return
        log_group = self.directory.find_group(scope, group)
        if log_group is None:
            if not create_group:
                log.warning(
                    "logs: dropped %d events for %s/%s: the log group does not exist "
                    "(ResourceNotFoundException; set awslogs-create-group to create it)",
                    len(events),
                    group,
                    stream,
                    extra={"log_group": group, "account_id": account_id, "region": region},
                )
                return
            log_group = self.directory.create_group(scope, group)
        log_stream = self.directory.find_stream(log_group, stream)
        if log_stream is None:
            log_stream = self.directory.create_stream(log_group, stream)
        batch = sorted(((int(ts), msg) for ts, msg in events if msg), key=lambda e: e[0])
        if not batch:
            return
        rejected = self.ingest(log_group, log_stream, batch)
        if rejected:
            log.warning(
                "logs: some events for %s/%s were rejected: %s",
                group,
                stream,
                rejected.to_wire(),
                extra={"log_group": group},
            )
