"""Metric and composite alarms of every account and region: in memory, written through to the
store, with their history. State changes are announced to listeners (the alarm controller
runs the actions and puts "CloudWatch Alarm State Change" events on the bus)."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

from dockyard.core import timefmt
from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.cloudwatch.errors import ResourceNotFound
from dockyard.services.cloudwatch.model import Alarm, AlarmState, HistoryItem, alarm_arn
from dockyard.store.base import Store
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

ALARM_KIND = "cloudwatch.alarm"
HISTORY_KIND = "cloudwatch.history"
MAX_HISTORY = 1000  # items kept per alarm

Change = tuple[Alarm, str]  # the alarm (already in its new state) and its previous state
Listener = Callable[[Alarm, str], None]


def _iso(ts: float) -> str:
    return timefmt.iso(ts, "ms", "+0000")


class Alarms:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.by_arn: dict[str, Alarm] = {}
        self.history: dict[str, list[HistoryItem]] = {}  # alarm ARN -> oldest first
        self.listeners: list[Listener] = []
        self.changed: list[Callable[[Alarm], None]] = []  # created, updated or deleted
        self._seq = itertools.count()

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(ALARM_KIND):
            self.by_arn[key] = Alarm(**body)
        for key, body in self.store.load(HISTORY_KIND):
            arn = key.rsplit("#", 2)[0]
            self.history.setdefault(arn, []).append(HistoryItem(**body))
        for items in self.history.values():
            items.sort(key=lambda h: h.timestamp)

    def reset(self) -> None:
        self.by_arn.clear()
        self.history.clear()

    def save(self, alarm: Alarm) -> None:
        put_record(self.store, ALARM_KIND, alarm.arn, alarm, lambda b: Alarm(**b))
        self.by_arn[alarm.arn] = alarm

    def find(self, scope: Scope, name: str) -> Alarm | None:
        return self.by_arn.get(alarm_arn(scope, name))

    def get(self, scope: Scope, name: str) -> Alarm:
        alarm = self.find(scope, name)
        if alarm is None:
            raise ResourceNotFound(f"Alarm {name} does not exist.")
        return alarm

    def in_scope(self, scope: Scope) -> list[Alarm]:
        return sorted((a for a in self.by_arn.values() if a.scope == scope), key=lambda a: a.name)

    def resolve(self, scope: Scope, name_or_arn: str) -> Alarm | None:
        if name_or_arn.startswith("arn:"):
            return self.by_arn.get(name_or_arn)
        return self.find(scope, name_or_arn)

    # -- lifecycle -------------------------------------------------------------------------

    def put(
        self, scope: Scope, name: str, params: dict[str, Any], *, composite: bool,
        tags: dict[str, str] | None = None, managed_by: str | None = None,
    ) -> Alarm:  # fmt: skip
        now = self.clock.now()
        existing = self.find(scope, name)
        if existing is not None and existing.composite != composite:
            kind = "composite" if existing.composite else "metric"
            from dockyard.services.cloudwatch.errors import InvalidParameterValueException

            raise InvalidParameterValueException(
                f"An alarm named {name} already exists as a {kind} alarm."
            )
        if existing is None:
            alarm = Alarm(
                arn=alarm_arn(scope, name),
                name=name,
                account_id=scope.account_id,
                region=scope.region,
                params=params,
                composite=composite,
                state_updated=now,
                state_transitioned=now,
                configuration_updated=now,
                actions_enabled=bool(params.get("ActionsEnabled", True)),
                tags=dict(tags or {}),
                managed_by=managed_by,
            )
            summary = f'Alarm "{name}" created'
        else:
            alarm = existing
            alarm.params = params
            alarm.configuration_updated = now
            alarm.actions_enabled = bool(params.get("ActionsEnabled", True))
            if tags:
                alarm.tags.update(tags)
            summary = f'Alarm "{name}" updated'
        self.save(alarm)
        self.record(alarm, "ConfigurationUpdate", summary, {"type": summary.split()[-1]})
        for hook in self.changed:
            hook(alarm)
        return alarm

    def delete(self, alarm: Alarm) -> None:
        self.store.delete(ALARM_KIND, alarm.arn)
        self.by_arn.pop(alarm.arn, None)
        for hook in self.changed:
            hook(alarm)

    def transition(
        self, alarm: Alarm, state: str, reason: str, reason_data: dict[str, Any] | None = None,
        *, forced: bool = False,
    ) -> bool:  # fmt: skip
        """Move the alarm to `state`; True (and listeners told) when the state changed."""
        now = self.clock.now()
        previous = alarm.state
        alarm.last_evaluated = now
        alarm.forced = forced
        if previous == state:
            self.save(alarm)
            return False
        alarm.state = state
        alarm.state_reason = reason
        alarm.state_reason_data = json.dumps(reason_data) if reason_data is not None else None
        alarm.state_updated = now
        alarm.state_transitioned = now
        self.save(alarm)
        self.record(
            alarm,
            "StateUpdate",
            f"Alarm updated from {previous} to {state}",
            {
                "version": "1.0",
                "oldState": {"stateValue": previous},
                "newState": {
                    "stateValue": state,
                    "stateReason": reason,
                    **({"stateReasonData": reason_data} if reason_data else {}),
                },
            },
        )
        log.info(
            "alarm %s: %s -> %s (%s)", alarm.name, previous, state, reason,
            extra={"alarm_arn": alarm.arn},
        )  # fmt: skip
        for listener in list(self.listeners):
            try:
                listener(alarm, previous)
            except Exception:
                log.exception("alarm listener failed", extra={"alarm_arn": alarm.arn})
        return True

    # -- history ---------------------------------------------------------------------------

    def record(self, alarm: Alarm, item_type: str, summary: str, data: dict[str, Any]) -> None:
        item = HistoryItem(
            alarm_name=alarm.name,
            alarm_type="CompositeAlarm" if alarm.composite else "MetricAlarm",
            timestamp=self.clock.now(),
            item_type=item_type,
            summary=summary,
            data=json.dumps(data),
        )
        key = f"{alarm.arn}#{item.timestamp:.6f}#{next(self._seq)}"
        self.store.put(HISTORY_KIND, key, item.to_dict())
        items = self.history.setdefault(alarm.arn, [])
        items.append(item)
        if len(items) > MAX_HISTORY:
            del items[: len(items) - MAX_HISTORY]

    def history_of(self, scope: Scope) -> list[HistoryItem]:
        prefix = alarm_arn(scope, "")
        out = [h for arn, items in self.history.items() if arn.startswith(prefix) for h in items]
        return sorted(out, key=lambda h: h.timestamp, reverse=True)


__all__ = ["AlarmState", "Alarms", "_iso"]
