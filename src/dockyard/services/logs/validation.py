"""CloudWatch Logs input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.services.logs.errors import InvalidParameterException
from dockyard.services.logs.events import EVENT_OVERHEAD, message_size

RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
MAX_TAGS = 50
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000


_GROUP_NAME = re.compile(r"[\.\-_/#A-Za-z0-9]{1,512}")
_STREAM_NAME = re.compile(r"[^:*]{1,512}")


def _pattern_error(value: str, field: str, pattern: str) -> InvalidParameterException:
    return InvalidParameterException(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}"
    )


def group_name(name: str) -> str:
    if not _GROUP_NAME.fullmatch(name):
        raise _pattern_error(name, "logGroupName", r"[\.\-_/#A-Za-z0-9]+")
    if name.startswith("aws/"):
        raise InvalidParameterException(
            f"Log group names cannot start with 'aws/' (logGroupName: {name!r})."
        )
    return name


def stream_name(name: str) -> str:
    if not _STREAM_NAME.fullmatch(name):
        raise _pattern_error(name, "logStreamName", "[^:*]*")
    return name


def retention(days: int) -> int:
    if days not in RETENTION_DAYS:
        values = ", ".join(str(d) for d in RETENTION_DAYS)
        raise InvalidParameterException(
            f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{values}]"
        )
    return days


def tags(value: Mapping[str, Any] | None, field: str = "tags") -> dict[str, str]:
    result: dict[str, str] = {}
    for key, val in (value or {}).items():
        if key.lower().startswith("aws:"):
            raise InvalidParameterException(
                f"Tag keys with the aws: prefix are reserved ({field}: {key})."
            )
        if not 1 <= len(key) <= 128 or len(str(val)) > 256:
            raise InvalidParameterException(
                f"Tag keys have 1 to 128 characters and values at most 256 ({field}: {key})."
            )
        result[str(key)] = str(val)
    return result


def batch(events: Sequence[Mapping[str, Any]]) -> list[tuple[int, str]]:
    """A PutLogEvents batch as (timestamp, message) pairs, or InvalidParameterException."""
    if not events:
        raise InvalidParameterException("logEvents must contain at least one event.")
    if len(events) > MAX_BATCH_EVENTS:
        raise InvalidParameterException(
            f"A batch can contain at most {MAX_BATCH_EVENTS} log events (logEvents)."
        )
    pairs = [(int(e["timestamp"]), str(e["message"])) for e in events]
    for (t0, _), (t1, _) in itertools.pairwise(pairs):
        if t1 < t0:
            raise InvalidParameterException(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
    if pairs[-1][0] - pairs[0][0] > MAX_BATCH_SPAN_MS:
        raise InvalidParameterException(
            "The batch of log events in a single PutLogEvents request cannot span more than "
            "24 hours."
        )
    size = sum(message_size(m) + EVENT_OVERHEAD for _, m in pairs)
    if size > MAX_BATCH_BYTES:
        raise InvalidParameterException(
            f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )
    return pairs
