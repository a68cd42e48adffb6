"""The scheduled scaling controller: runs Application Auto Scaling scheduled actions.

Keys are scheduled action ARNs. At each firing time (at, rate or cron, in the action's time
zone, within its start and end times) the action sets the target's min and max capacity, and
the capacity is brought within them; a scaling activity records it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dockyard.controllers.runtime import Runtime
from dockyard.core import schedule
from dockyard.core.clock import Clock
from dockyard.services.autoscaling.model import ScheduledAction
from dockyard.services.autoscaling.service import AutoScaling

log = logging.getLogger(__name__)


class ScheduledScalingController:
    def __init__(self, aas: AutoScaling, clock: Clock) -> None:
        self.aas = aas
        self.clock = clock
        self.runtime = Runtime("scheduled-scaling", self.reconcile, clock, workers=1)
        self._hook: Callable[[ScheduledAction], None] = lambda a: self.runtime.enqueue(a.arn)

    def start(self) -> None:
        self.aas.scheduled_hooks.append(self._hook)
        self.runtime.start()
        for arn in list(self.aas.scheduled):
            self.runtime.enqueue(arn)

    async def stop(self) -> None:
        if self._hook in self.aas.scheduled_hooks:
            self.aas.scheduled_hooks.remove(self._hook)
        await self.runtime.stop()

    async def reconcile(self, key: str) -> float | None:
        action = self.aas.scheduled.get(key)
        if action is None:
            return None
        target = self.aas.targets.get(action.target_key)
        if target is None:
            return None
        sched = schedule.parse(action.schedule, allow_at=True)
        now = self.clock.now()
        after = action.last_run if action.last_run is not None else action.created
        if action.start is not None:
            after = max(after, action.start - 1)
        due = sched.next_time(after, origin=action.created, tz=action.timezone)
        if due is None or (action.end is not None and due > action.end):
            return None
        if due > now:
            return due - now
        action.last_run = now
        self.aas.save_scheduled(action)
        if target.suspended.get("ScheduledScalingSuspended"):
            return 0.0
        if action.min_capacity is not None:
            target.min_capacity = action.min_capacity
        if action.max_capacity is not None:
            target.max_capacity = action.max_capacity
        self.aas.save_target(target)
        current = self.aas.current(target)
        if current is not None:
            self.aas.scale(target, current, f"scheduled action name {action.name} was triggered")
        return 0.0
