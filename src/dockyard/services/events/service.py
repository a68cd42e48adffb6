"""The EventBridge service: buses, rules and targets of every account and region, and the
routing of events to targets.

`Events(store, clock)`; call `load()` once. The composition root sets `logs` (a `LogSink`)
and `tasks` (a `TaskLauncher`) so those targets can be reached. `emit(event)` is the
`EventSink` port: AWS service events (ECS, CloudWatch alarms) arrive there.

Routing (matching rules) happens when an event arrives; delivery to targets never does: it
is queued on `outbox` and runs from there, in order, so a target that causes more events (an
ECS target starting tasks) never runs inside the operation that published the event.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dockyard.core import timefmt
from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.eventbus import Mailbox
from dockyard.core.functions import FunctionInvoker
from dockyard.core.ids import new_uuid
from dockyard.core.queues import QueueSender
from dockyard.core.scope import Scope
from dockyard.services.events import patterns, target_lambda, target_sqs, targets, transform
from dockyard.services.events.errors import ResourceNotFoundException
from dockyard.services.events.model import (
    DEFAULT_BUS,
    ApiDestination,
    Connection,
    EventBus,
    Rule,
    bus_arn,
)
from dockyard.store.base import Store
from dockyard.store.undo import put_record

log = logging.getLogger(__name__)

BUS_KIND = "events.bus"
RULE_KIND = "events.rule"
CONNECTION_KIND = "events.connection"
DESTINATION_KIND = "events.api-destination"
MAX_DELIVERIES = 200  # recent deliveries kept for inspection


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event that matched a rule, waiting to be delivered to the rule's targets."""

    rule_arn: str
    event: dict[str, Any]
    forwarded: bool = False  # it came from another bus: no further bus-to-bus hop


def iso(ts: float) -> str:
    return timefmt.iso(ts, "s")


class Events:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        logs: targets.LogSink | None = None,
        tasks: targets.TaskLauncher | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.buses: dict[str, EventBus] = {}  # by ARN
        self.rules: dict[str, Rule] = {}  # by ARN
        self.connections: dict[str, Connection] = {}  # by ARN
        self.destinations: dict[str, ApiDestination] = {}  # by ARN
        self.logs = logs
        self.tasks = tasks
        self.queues: QueueSender | None = None  # SQS targets, set by the composition root
        self.functions: FunctionInvoker | None = None  # Lambda targets; set by the wiring
        self.rule_hooks: list[Callable[[Rule], None]] = []  # rule saved or deleted
        self.deliveries: list[dict[str, Any]] = []  # recent (rule, target, outcome)
        # Matched events wait here; one task delivers them in order, after the operation
        # that published them has finished (see `core.eventbus`).
        self.outbox: Mailbox[Delivery] = Mailbox("events-delivery", self._deliver_now)

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(BUS_KIND):
            self.buses[key] = EventBus(**body)
        for key, body in self.store.load(RULE_KIND):
            self.rules[key] = Rule(**body)
        for key, body in self.store.load(CONNECTION_KIND):
            self.connections[key] = Connection(**body)
        for key, body in self.store.load(DESTINATION_KIND):
            self.destinations[key] = ApiDestination(**body)

    def reset(self) -> None:
        self.buses.clear()
        self.rules.clear()
        self.connections.clear()
        self.destinations.clear()

    # -- buses -------------------------------------------------------------------------

    def bus(self, scope: Scope, name_or_arn: str | None) -> EventBus:
        """A bus by name or ARN; the default bus exists in every account and region."""
        name = (name_or_arn or DEFAULT_BUS).rsplit("event-bus/", 1)[-1]
        arn = bus_arn(scope, name)
        bus = self.buses.get(arn)
        if bus is None and name == DEFAULT_BUS:
            bus = EventBus(arn, name, scope.account_id, scope.region, self.clock.now())
            self.save_bus(bus)
        if bus is None:
            raise ResourceNotFoundException(f"Event bus {name} does not exist.")
        return bus

    def save_bus(self, bus: EventBus) -> None:
        put_record(self.store, BUS_KIND, bus.arn, bus, lambda b: EventBus(**b))
        self.buses[bus.arn] = bus

    def delete_bus(self, bus: EventBus) -> None:
        rules = [r for r in self.rules.values() if r.scope == _scope(bus) and r.bus == bus.name]
        self.store.write(deletes=[(RULE_KIND, r.arn) for r in rules] + [(BUS_KIND, bus.arn)])
        self.buses.pop(bus.arn, None)
        for rule in rules:
            self.rules.pop(rule.arn, None)
            for hook in self.rule_hooks:
                hook(rule)

    # -- rules -------------------------------------------------------------------------

    def save_rule(self, rule: Rule) -> None:
        put_record(self.store, RULE_KIND, rule.arn, rule, lambda b: Rule(**b))
        self.rules[rule.arn] = rule
        for hook in self.rule_hooks:
            hook(rule)

    def delete_rule(self, rule: Rule) -> None:
        self.store.delete(RULE_KIND, rule.arn)
        self.rules.pop(rule.arn, None)
        for hook in self.rule_hooks:
            hook(rule)

    def rules_of(self, scope: Scope, bus: str) -> list[Rule]:
        return sorted(
            (r for r in self.rules.values() if r.scope == scope and r.bus == bus),
            key=lambda r: r.name,
        )

    # -- connections and API destinations ---------------------------------------------

    def save_connection(self, connection: Connection) -> None:
        put_record(
            self.store, CONNECTION_KIND, connection.arn, connection, lambda b: Connection(**b)
        )
        self.connections[connection.arn] = connection

    def save_destination(self, destination: ApiDestination) -> None:
        put_record(
            self.store,
            DESTINATION_KIND,
            destination.arn,
            destination,
            lambda b: ApiDestination(**b),
        )
        self.destinations[destination.arn] = destination

    # -- events ------------------------------------------------------------------------

    def emit(self, event: dict[str, Any]) -> None:
        """The EventSink port: an AWS service event for the default bus of its scope."""
        scope = Scope(str(event.get("account")), str(event.get("region")))
        self.route(self.bus(scope, DEFAULT_BUS), event)

    def route(self, bus: EventBus, event: dict[str, Any], forwarded: bool = False) -> int:
        """Queue the event for the targets of every enabled rule whose pattern matches; the
        number of rules matched. `forwarded`: the event came from another bus's rule."""
        matched = 0
        for rule in self.rules_of(_scope(bus), bus.name):
            if not rule.enabled or not rule.event_pattern:
                continue
            if patterns.matches(json.loads(rule.event_pattern), event):
                matched += 1
                self.deliver(rule, event, forwarded)
        return matched

    def fire_schedule(self, rule: Rule, when: float) -> None:
        """A scheduled rule's "Scheduled Event" to its targets."""
        event = {
            "version": "0",
            "id": new_uuid(),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": rule.account_id,
            "time": iso(when),
            "region": rule.region,
            "resources": [rule.arn],
            "detail": {},
        }
        rule.last_fired = when
        put_record(self.store, RULE_KIND, rule.arn, rule, lambda b: Rule(**b))
        self.deliver(rule, event)

    def deliver(self, rule: Rule, event: dict[str, Any], forwarded: bool = False) -> None:
        """Queue the event for the rule's targets; delivery runs later, from the queue."""
        self.outbox.put(Delivery(rule.arn, event, forwarded))

    def _deliver_now(self, job: Delivery) -> None:
        rule = self.rules.get(job.rule_arn)
        if rule is None or not rule.enabled:
            return  # deleted or disabled since the event matched: nothing to deliver to
        event = job.event
        ingestion = iso(self.clock.now())
        for target in list(rule.targets.values()):
            try:
                body = transform.payload(target, event, rule.name, rule.arn, ingestion)
                outcome = self._deliver_one(rule, target, event, body, job.forwarded)
            except ServiceError as exc:  # the target refused: the AWS error, no traceback
                log.warning("events: delivery to %s failed: %s: %s", target.get("Arn"),
                            exc.code, exc.message, extra={"rule_arn": rule.arn})  # fmt: skip
                outcome = f"failed: {exc.code}: {exc.message}"
            except Exception as exc:  # a target failing never stops the others
                log.exception("events: delivery to %s failed", target.get("Arn"),
                              extra={"rule_arn": rule.arn})  # fmt: skip
                outcome = f"failed: {exc}"
            self.deliveries.append({"rule": rule.arn, "target": target["Id"],
                                    "event": event.get("id"), "outcome": outcome})  # fmt: skip
            del self.deliveries[:-MAX_DELIVERIES]

    def _deliver_one(self, rule: Rule, target: dict[str, Any], event: dict[str, Any],
                     body: str, forwarded: bool) -> str:  # fmt: skip
        kind = targets.kind_of(target["Arn"])
        if kind == "logs":
            if self.logs is None:
                return "failed: CloudWatch Logs is not wired"
            group = targets.log_group_name(target["Arn"])
            stream = str(event.get("id") or new_uuid())
            ts = int(self.clock.now() * 1000)
            self.logs.put_events(rule.account_id, rule.region, group, stream, [(ts, body)], False)
            return "delivered"
        if kind == "ecs":
            if self.tasks is None:
                return "failed: ECS is not wired"
            params = targets.ecs_run_task_params(target, rule.name, body)
            started, failures = self.tasks.run_task(rule.account_id, rule.region, params)
            log.info("events: rule %s started tasks %s", rule.name, started,
                     extra={"rule_arn": rule.arn})  # fmt: skip
            if failures:
                log.warning("events: rule %s could not place %d task(s): %s", rule.name,
                            len(failures), failures, extra={"rule_arn": rule.arn})  # fmt: skip
            return f"started {len(started)} task(s), {len(failures)} failure(s)"
        if kind == "event-bus":
            if forwarded:  # as in EventBridge: no further hop from a bus that received it
                return "skipped: an event received from another bus is not forwarded again"
            other = self.buses.get(target["Arn"])
            if other is None:
                return "failed: the target event bus does not exist"
            self.route(other, event, forwarded=True)
            return "delivered"
        if kind == "api-destination":
            return self._http(rule, target, body)
        if kind == "sqs":
            if self.queues is None:
                return "failed: SQS is not wired"
            return target_sqs.deliver(self.queues, rule.arn, target, event, body)
        if kind == "lambda":
            return target_lambda.deliver(self.functions, rule.arn, target["Arn"], body)
        return "failed: unsupported target"

    def _http(self, rule: Rule, target: dict[str, Any], body: str) -> str:
        destination = self.destinations.get(target["Arn"])
        if destination is None:
            return "failed: the API destination does not exist"
        connection = self.connections.get(destination.connection_arn)
        auth = (
            {"type": connection.authorization_type, "params": connection.auth_parameters}
            if connection is not None else None
        )  # fmt: skip
        request = targets.http_request(
            destination.endpoint, destination.method, body, auth, target.get("HttpParameters")
        )

        def done(status: int | None, error: str) -> None:
            level = logging.INFO if status is not None and status < 400 else logging.WARNING
            log.log(level, "events: rule %s -> %s %s: %s %s", rule.name, destination.method,
                    destination.endpoint, status, error, extra={"rule_arn": rule.arn})  # fmt: skip

        targets.send(request, done)
        return "sent"


def _scope(bus: EventBus) -> Scope:
    return Scope(bus.account_id, bus.region)
