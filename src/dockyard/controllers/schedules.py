"""The schedule controller: fires EventBridge rules that have a ScheduleExpression.

Keys are rule ARNs. A reconcile works out the rule's next firing time from its schedule and
when it last fired (or was created); when that time has come it sends the rule's "Scheduled
Event" to its targets once (missed firings while the server was down are not replayed) and
asks to be woken at the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dockyard.controllers.runtime import Runtime
from dockyard.core import schedule
from dockyard.core.clock import Clock
from dockyard.services.events.model import Rule
from dockyard.services.events.service import Events

log = logging.getLogger(__name__)


class ScheduleController:
    def __init__(self, events: Events, clock: Clock, *, workers: int = 1) -> None:
        self.events = events
        self.clock = clock
        self.runtime = Runtime("schedules", self.reconcile, clock, workers=workers)
        self._hook: Callable[[Rule], None] = lambda rule: self.runtime.enqueue(rule.arn)

    def start(self) -> None:
        self.events.rule_hooks.append(self._hook)
        self.runtime.start()
        for arn, rule in list(self.events.rules.items()):
            if rule.schedule_expression:
                self.runtime.enqueue(arn)

    async def stop(self) -> None:
        if self._hook in self.events.rule_hooks:
            self.events.rule_hooks.remove(self._hook)
        await self.runtime.stop()

    async def reconcile(self, key: str) -> float | None:
        rule = self.events.rules.get(key)
        if rule is None or not rule.enabled or not rule.schedule_expression:
            return None
        sched = schedule.parse(rule.schedule_expression)
        now = self.clock.now()
        after = rule.last_fired if rule.last_fired is not None else rule.created
        due = sched.next_time(after, origin=rule.created)
        if due is None:
            return None
        if due <= now:
            log.info("schedule: rule %s fires", rule.name, extra={"rule_arn": rule.arn})
            self.events.fire_schedule(rule, due)
            due = sched.next_time(max(due, now), origin=rule.created)
            if due is None:
                return None
        return max(0.0, due - now)
