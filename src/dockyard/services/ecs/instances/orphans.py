"""Orphaned tasks, as the server sees them: reported by agents, shown to the operator, stopped
when the operator says so (see core/orphans.py for the protocol).

An orphan is kept in the store (kind `ecs.orphan`) from the agent's report until the agent
reports the task STOPPED. A stop the operator asked for reaches the agent as an assignment
with desired status STOPPED, so the agent stops the task as any other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.orphans import OrphanReport, OrphanVerdict, Verdict
from dockyard.core.taskspec import Assignment, DesiredStatus, TaskSpec, TaskStatus
from dockyard.services.ecs.state import EcsDomain
from dockyard.services.ecs.tasks.domain import Tasks
from dockyard.store.base import Store

log = logging.getLogger(__name__)

KIND = "ecs.orphan"
STOP_CODE = "UserInitiated"
STOP_REASON = "Orphaned task stopped by the operator (dockyard orphans stop)"


@dataclass(slots=True)
class Orphan:
    task_arn: str
    instance_arn: str
    spec: TaskSpec
    last_status: str
    reported_at: float
    stop_requested: bool = False
    containers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_arn": self.task_arn,
            "instance_arn": self.instance_arn,
            "spec": self.spec.to_dict(),
            "last_status": self.last_status,
            "reported_at": self.reported_at,
            "stop_requested": self.stop_requested,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Orphan:
        spec = TaskSpec.from_dict(data["spec"])
        return cls(
            task_arn=str(data["task_arn"]),
            instance_arn=str(data["instance_arn"]),
            spec=spec,
            last_status=str(data["last_status"]),
            reported_at=float(data["reported_at"]),
            stop_requested=bool(data.get("stop_requested")),
            containers=[c.name for c in spec.containers],
        )

    def to_wire(self) -> dict[str, Any]:
        """What the operator sees (`dockyard orphans list`, GET /_dockyard/orphans)."""
        return {
            "taskArn": self.task_arn,
            "containerInstanceArn": self.instance_arn,
            "clusterArn": self.spec.cluster_arn,
            "taskDefinition": f"{self.spec.family}:{self.spec.revision}",
            "containers": self.containers,
            "lastStatus": self.last_status,
            "reportedAt": self.reported_at,
            "stopRequested": self.stop_requested,
        }


class Orphans(EcsDomain):
    def __init__(self, store: Store, clock: Clock, tasks: Tasks) -> None:
        super().__init__(store, clock)
        self.tasks = tasks
        self.by_arn: dict[str, Orphan] = {}

    def load(self) -> None:
        self.by_arn = {}
        for key, body in self.store.load(KIND):
            try:
                self.by_arn[key] = Orphan.from_dict(body)
            except (KeyError, TypeError, ValueError):
                log.exception("skipping an unreadable orphan record", extra={"arn": key})

    def reset(self) -> None:
        self.by_arn.clear()

    def _save(self, orphan: Orphan) -> None:
        self.store.put(KIND, orphan.task_arn, orphan.to_dict())  # commit first, then memory
        self.by_arn[orphan.task_arn] = orphan

    # -- agents ------------------------------------------------------------------------------

    def classify(self, instance_arn: str, reports: list[OrphanReport]) -> list[OrphanVerdict]:
        """The server's answer on each task an agent runs that it did not list."""
        verdicts = []
        for report in reports:
            arn = report.spec.task_arn
            task = self.tasks.by_arn.get(arn)
            if task is not None and task.is_stopped:
                verdicts.append(
                    OrphanVerdict(arn, Verdict.STOP, task.stop_code, task.stopped_reason)
                )
                continue
            if task is not None:
                verdicts.append(OrphanVerdict(arn, Verdict.KEEP))
                continue
            known = self.by_arn.get(arn)
            if known is not None and known.stop_requested:
                verdicts.append(OrphanVerdict(arn, Verdict.STOP, STOP_CODE, STOP_REASON))
                continue
            orphan = Orphan(
                task_arn=arn,
                instance_arn=instance_arn,
                spec=report.spec,
                last_status=report.last_status,
                reported_at=self.clock.now(),
                containers=[c.name for c in report.spec.containers],
            )
            self._save(orphan)
            if known is None or known.instance_arn != instance_arn:
                log.warning(
                    "orphaned task %s: container instance %s runs it, but this server does not "
                    "know it (state reset, restored or another store); it keeps running until "
                    "the operator stops it (dockyard orphans stop)",
                    arn,
                    instance_arn,
                    extra={"arn": arn},
                )
            verdicts.append(OrphanVerdict(arn, Verdict.ORPHANED))
        return verdicts

    def stop_assignments(self, instance_arn: str) -> list[Assignment]:
        """The orphans of `instance_arn` the operator wants stopped, as assignments."""
        return [
            Assignment(o.spec, DesiredStatus.STOPPED, STOP_CODE, STOP_REASON)
            for o in self.by_arn.values()
            if o.instance_arn == instance_arn and o.stop_requested
        ]

    def reported(self, status: TaskStatus) -> bool:
        """Take an agent's report on an orphan (False: not an orphan). STOPPED lets it go."""
        orphan = self.by_arn.get(status.task_arn)
        if orphan is None:
            return False
        if status.status == "STOPPED":
            self.store.delete(KIND, orphan.task_arn)
            del self.by_arn[orphan.task_arn]
            log.info("orphaned task %s stopped", orphan.task_arn, extra={"arn": orphan.task_arn})
        elif status.status != orphan.last_status:
            orphan.last_status = status.status
            self._save(orphan)
        return True

    # -- the operator ------------------------------------------------------------------------

    def listed(self) -> list[Orphan]:
        return sorted(self.by_arn.values(), key=lambda o: (o.instance_arn, o.task_arn))

    def request_stop(self, task_arns: list[str] | None) -> tuple[list[Orphan], list[str]]:
        """Ask the agents to stop these orphans (None: every one). Returns the orphans asked
        and the ARNs that are no orphans."""
        if task_arns is None:
            chosen, unknown = list(self.by_arn.values()), []
        else:
            chosen = [self.by_arn[a] for a in task_arns if a in self.by_arn]
            unknown = [a for a in task_arns if a not in self.by_arn]
        for orphan in chosen:
            if not orphan.stop_requested:
                orphan.stop_requested = True
                try:
                    self._save(orphan)
                except Exception:
                    orphan.stop_requested = False
                    raise
                log.info("stopping orphaned task %s", orphan.task_arn,
                         extra={"arn": orphan.task_arn})  # fmt: skip
            self.tasks.notify(orphan.instance_arn)
        return chosen, unknown
