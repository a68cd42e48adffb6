"""CloudWatch Logs' domain types: log groups and log streams, and their ARNs."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from dockyard.core.ids import arn
from dockyard.core.scope import Scope


class LogGroupClass(enum.StrEnum):
    STANDARD = "STANDARD"
    INFREQUENT_ACCESS = "INFREQUENT_ACCESS"
    DELIVERY = "DELIVERY"


def group_arn(scope: Scope, name: str) -> str:
    """The log group's ARN as tagging APIs take it (no trailing `:*`)."""
    return arn("logs", scope.region, scope.account_id, f"log-group:{name}")


def stream_arn(group_arn_: str, name: str) -> str:
    return f"{group_arn_}:log-stream:{name}"


@dataclass(slots=True)
class LogGroup:
    arn: str  # without the trailing ":*"
    name: str
    account_id: str
    region: str
    gid: int  # the group's number in the event log
    creation_time: int  # epoch milliseconds
    retention_in_days: int | None = None
    log_group_class: str = LogGroupClass.STANDARD
    deletion_protection: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class LogStream:
    group_arn: str
    name: str
    sid: int  # the stream's number in the event log
    creation_time: int
    first_event: int | None = None
    last_event: int | None = None
    last_ingestion: int | None = None
    sequence: int = 1
    stored_bytes: int = 0

    @property
    def arn(self) -> str:
        return stream_arn(self.group_arn, self.name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
