"""Targets of target groups: registration, health as the data plane observes it, draining."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.services.elbv2 import validation
from dockyard.services.elbv2.directory import Directory
from dockyard.services.elbv2.errors import InvalidTarget, ValidationError
from dockyard.services.elbv2.model import (
    DESCRIPTIONS,
    Reason,
    RegisteredTarget,
    TargetGroup,
    TargetState,
    TargetType,
)

log = logging.getLogger(__name__)

# instance id -> the address the data plane connects to (this host unless told otherwise)
InstanceResolver = Callable[[str], str]


@dataclass(slots=True, frozen=True)
class Health:
    state: str
    reason: str | None = None
    description: str | None = None


def deregistration_delay(tg: TargetGroup) -> float:
    return float(tg.attributes.get("deregistration_delay.timeout_seconds", "300"))


class Targets:
    def __init__(
        self,
        directory: Directory,
        clock: Clock,
        changed: Callable[[], None],
        instance_address: InstanceResolver,
    ) -> None:
        self.directory = directory
        self.clock = clock
        self.changed = changed
        self.instance_address = instance_address

    # Registration

    def check(self, tg: TargetGroup, target_id: str, port: int | None) -> int:
        """The port a target is registered on; refuses what the target group cannot take."""
        if tg.target_type == TargetType.INSTANCE:
            if not target_id.startswith("i-") or len(target_id) < 3:
                raise InvalidTarget(
                    f"The following targets are not valid instance IDs: '{target_id}'"
                )
        elif tg.target_type == TargetType.IP:
            validation.ip_target(target_id)
        else:
            raise InvalidTarget(
                f"Dockyard cannot route to '{tg.target_type}' targets (target group {tg.name})"
            )
        chosen = port if port is not None else tg.port
        if chosen is None:
            raise ValidationError(f"A port must be specified for target '{target_id}'")
        return validation.port(chosen, "Target port")

    def register(
        self, tg: TargetGroup, target_id: str, port: int, address: str | None, az: str | None
    ) -> RegisteredTarget:
        key = f"{target_id}:{port}"
        if address is None:
            address = (
                self.instance_address(target_id)
                if tg.target_type == TargetType.INSTANCE
                else target_id
            )
        current = tg.targets.get(key)
        if current is not None and current.state != TargetState.DRAINING:
            current.address = address
            self.directory.save_tg(tg)
            return current
        target = RegisteredTarget(
            target_id=target_id,
            port=port,
            address=address,
            registered_at=self.clock.now(),
            availability_zone=az,
            description=DESCRIPTIONS[Reason.REGISTRATION_IN_PROGRESS],
        )
        if not tg.health_check.enabled:
            target.state = TargetState.UNAVAILABLE
            target.reason = Reason.HEALTH_CHECK_DISABLED
            target.description = DESCRIPTIONS[Reason.HEALTH_CHECK_DISABLED]
        tg.targets[key] = target
        self.directory.save_tg(tg)
        log.info("elbv2: registered %s in %s", key, tg.name, extra={"target_group": tg.arn})
        self.changed()
        return target

    def deregister(self, tg: TargetGroup, key: str) -> None:
        target = tg.targets.get(key)
        if target is None or target.state == TargetState.DRAINING:
            return
        if deregistration_delay(tg) <= 0 or not self.directory.lbs_of_tg(tg.arn):
            del tg.targets[key]
        else:
            target.state = TargetState.DRAINING
            target.reason = Reason.DEREGISTRATION_IN_PROGRESS
            target.description = DESCRIPTIONS[Reason.DEREGISTRATION_IN_PROGRESS]
            target.draining_since = self.clock.now()
        self.directory.save_tg(tg)
        log.info("elbv2: deregistering %s from %s", key, tg.name, extra={"target_group": tg.arn})
        self.changed()

    # Health, as the data plane's probes see it

    def set_health(
        self, tg_arn: str, key: str, state: str, reason: str | None, description: str | None
    ) -> None:
        tg = self.directory.target_groups.get(tg_arn)
        target = tg.targets.get(key) if tg is not None else None
        if tg is None or target is None or target.state == TargetState.DRAINING:
            return
        if (target.state, target.reason, target.description) == (state, reason, description):
            return
        routable_before = target.state == TargetState.HEALTHY
        target.state, target.reason, target.description = state, reason, description
        if state == TargetState.HEALTHY and not routable_before:
            target.healthy_since = self.clock.now()
        log.info(
            "elbv2: target %s of %s is %s%s", key, tg.name, state,
            f" ({reason})" if reason else "", extra={"target_group": tg.arn},
        )  # fmt: skip
        # Health is observed, not configured: kept in memory, probed again after a restart.
        self.changed()

    def health(self, tg: TargetGroup, target: RegisteredTarget) -> Health:
        if target.state == TargetState.DRAINING:
            return Health(target.state, target.reason, target.description)
        if not self.directory.lbs_of_tg(tg.arn):
            return Health(TargetState.UNUSED, Reason.NOT_IN_USE, DESCRIPTIONS[Reason.NOT_IN_USE])
        return Health(target.state, target.reason, target.description)

    def reset_health(self) -> None:
        """After a reload: every target is checked again from `initial`."""
        for tg in self.directory.target_groups.values():
            for target in tg.targets.values():
                if target.state != TargetState.DRAINING:
                    target.state = (
                        TargetState.INITIAL if tg.health_check.enabled else TargetState.UNAVAILABLE
                    )
                    target.reason = (
                        Reason.REGISTRATION_IN_PROGRESS
                        if tg.health_check.enabled
                        else Reason.HEALTH_CHECK_DISABLED
                    )
                    target.description = DESCRIPTIONS[target.reason]
                    target.healthy_since = None

    # Draining

    def finish_draining(self, inflight: Callable[[str, str], int]) -> int:
        """Remove draining targets whose in-flight requests are done or whose deregistration
        delay has passed; the number removed."""
        now = self.clock.now()
        removed = 0
        for tg in list(self.directory.target_groups.values()):
            done = [
                key
                for key, t in tg.targets.items()
                if t.state == TargetState.DRAINING
                and (
                    inflight(tg.arn, key) == 0
                    or now - (t.draining_since or now) >= deregistration_delay(tg)
                )
            ]
            for key in done:
                del tg.targets[key]
                log.info(
                    "elbv2: %s left %s (drained)", key, tg.name, extra={"target_group": tg.arn}
                )
            if done:
                self.directory.save_tg(tg)
                removed += len(done)
        if removed:
            self.changed()
        return removed
