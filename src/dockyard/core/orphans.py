"""Orphaned tasks: what an agent runs that the server does not know.

A server whose state was reset, restored from an older backup or pointed at the wrong
`--store` no longer lists tasks its agents run. An agent does not stop them for that: it asks
the server about each task it runs that the server no longer lists (`OrphanLink.orphans`).
The server answers, per task:
  STOP      it knows the task and it is STOPPED there (stopped while the host was away, or
            by the operator): the agent stops it, as before;
  ORPHANED  it does not know the task: it records the orphan for the operator
            (`dockyard orphans list|stop`), and the agent keeps the task running;
  KEEP      it knows the task as running (a listing crossed a change): nothing to do.
This is how ECS treats the tasks of a deregistered instance: they keep running, orphaned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from dockyard.core.taskspec import TaskSpec


class Verdict(StrEnum):
    STOP = "STOP"
    ORPHANED = "ORPHANED"
    KEEP = "KEEP"


@dataclass(slots=True)
class OrphanReport:
    """A task the agent runs that the server did not list: its spec without secret values."""

    spec: TaskSpec
    last_status: str

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "last_status": self.last_status}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrphanReport:
        return cls(TaskSpec.from_dict(data["spec"]), str(data["last_status"]))


@dataclass(slots=True)
class OrphanVerdict:
    task_arn: str
    verdict: Verdict
    stop_code: str | None = None
    stopped_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_arn": self.task_arn,
            "verdict": str(self.verdict),
            "stop_code": self.stop_code,
            "stopped_reason": self.stopped_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrphanVerdict:
        return cls(
            str(data["task_arn"]),
            Verdict(data["verdict"]),
            data.get("stop_code"),
            data.get("stopped_reason"),
        )


class OrphanLink(Protocol):
    async def orphans(
        self, instance_arn: str, reports: list[OrphanReport]
    ) -> list[OrphanVerdict]: ...
