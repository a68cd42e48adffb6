"""The EC2 Auto Scaling scheduled actions controller: runs each scheduled action at its time.

Keys are scheduled action ARNs. A reconcile works out when the action runs next (its
StartTime, or its Unix cron Recurrence in its TimeZone between StartTime and EndTime, after
its last run) and, when that time has come, runs it once (`scheduled.run`: the group takes
its MinSize / MaxSize / DesiredCapacity, and the group controller does the rest); firings
missed while the server was down are not replayed. Time is the injected clock's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dockyard.controllers.runtime import Runtime
from dockyard.core.clock import Clock
from dockyard.services.ec2autoscaling import scheduled
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling

log = logging.getLogger(__name__)


class AsgScheduleController:
    def __init__(self, asg: Ec2AutoScaling, clock: Clock) -> None:
        self.asg = asg
        self.clock = clock
        self.runtime = Runtime("ec2-autoscaling-schedules", self.reconcile, clock, workers=1)
        self._hook: Callable[[str], None] = self.runtime.enqueue

    def start(self) -> None:
        self.asg.scheduled_hooks.append(self._hook)
        self.runtime.start()
        for arn in list(self.asg.scheduled):
            self.runtime.enqueue(arn)

    async def stop(self) -> None:
        if self._hook in self.asg.scheduled_hooks:
            self.asg.scheduled_hooks.remove(self._hook)
        await self.runtime.stop()

    async def reconcile(self, key: str) -> float | None:
        action = self.asg.scheduled.get(key)
        if action is None:
            return None
        due = scheduled.next_run(action)
        if due is None:
            return None
        now = self.clock.now()
        if due > now:
            return due - now
        log.info("ec2-autoscaling: scheduled action %s of group %s runs", action.name,
                 action.group_name)  # fmt: skip
        scheduled.run(self.asg, action)
        return None  # the commit enqueues it again if it recurs
