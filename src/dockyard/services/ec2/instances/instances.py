"""Instances of every account and region: launch (commit the reservation and the addresses it
takes from its subnet in one transaction), stop, start, reboot, terminate, and the changes
the machine reports (`booted`, `halted`, `destroyed`, `died`), each moving the state as EC2
does and writing the reason EC2 words. Terminated instances are kept an hour, then forgotten
(`forget_expired`).

The machine itself is driven by the controller (`controllers/ec2_instances.py`), never
from here: this module only records what is wanted and what happened, and tells its watchers
(the controller, which enqueues the instance) which instances a call changed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2 import tags
from dockyard.services.ec2.errors import malformed
from dockyard.services.ec2.ids import new_id
from dockyard.services.ec2.instances.launch import Launch, metadata_options
from dockyard.services.ec2.instances.model import (
    REASON_MESSAGES,
    Instance,
    InstanceState,
    Reason,
)
from dockyard.services.ec2.network import cidrs
from dockyard.services.ec2.network.model import Subnet
from dockyard.services.ec2.network.state import Records, editable

KEPT = 3600.0  # seconds a terminated instance stays visible
CHECK_GRACE = 5.0  # seconds a running instance's status checks stay `initializing`

S = InstanceState
# What a Stop / Start / Terminate leaves each state in (absent: refused).
ON_STOP = {
    S.PENDING: S.STOPPING,
    S.RUNNING: S.STOPPING,
    S.STOPPING: S.STOPPING,
    S.STOPPED: S.STOPPED,
}
ON_START = {S.STOPPED: S.PENDING, S.PENDING: S.PENDING, S.RUNNING: S.RUNNING}
ON_TERMINATE = {
    S.PENDING: S.SHUTTING_DOWN,
    S.RUNNING: S.SHUTTING_DOWN,
    S.STOPPING: S.SHUTTING_DOWN,
    S.STOPPED: S.SHUTTING_DOWN,
    S.SHUTTING_DOWN: S.SHUTTING_DOWN,
    S.TERMINATED: S.TERMINATED,
}


def not_found(ids: Sequence[str]) -> ServiceError:
    return ServiceError(
        f"The instance ID '{', '.join(ids)}' does not exist", code="InvalidInstanceID.NotFound"
    )


def incorrect_state(instance: Instance, verb: str) -> ServiceError:
    return ServiceError(
        f"This instance '{instance.id}' is not in a state from which it can be {verb}.",
        code="IncorrectInstanceState",
    )


def user_initiated(now: float) -> str:
    """`User initiated (2026-12-07 08:52:00 GMT)`, as EC2 writes StateTransitionReason."""
    return f"User initiated ({time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(now))} GMT)"


def private_dns(region: str, address: str) -> str:
    host = "ip-" + address.replace(".", "-")
    return f"{host}.ec2.internal" if region == "us-east-1" else f"{host}.{region}.compute.internal"


# Called with each instance a user's call changed, once it is committed.
Watcher = Callable[[Instance], None]


def new_mac() -> str:
    return "02:" + ":".join(secrets.token_hex(1) for _ in range(5))


class Instances:
    def __init__(self, records: Records, clock: Clock) -> None:
        self.records = records
        self.clock = clock
        self._watchers: list[Watcher] = []

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher` with every instance launched, stopped, started, rebooted or
        terminated (after the commit); returns the call that stops watching."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def _notify(self, changed: Iterable[Instance]) -> None:
        for instance in changed:
            for watcher in list(self._watchers):
                watcher(instance)

    def all(self, scope: Scope) -> list[Instance]:
        return self.records.all(scope, Instance)

    def scopes(self) -> list[Scope]:
        return [
            s
            for s, held in self.records.by_scope.items()
            if any(isinstance(r, Instance) for r in held.values())
        ]

    def get(self, scope: Scope, instance_id: str) -> Instance:
        found = self.records.find(scope, instance_id, Instance)
        if found is None:
            raise not_found([instance_id])
        return found

    def chosen(self, scope: Scope, instance_ids: Iterable[str]) -> list[Instance]:
        """The instances of these ids, each checked (malformed, then absent)."""
        ids = list(dict.fromkeys(instance_ids))
        for instance_id in ids:
            if not instance_id.startswith("i-") or len(instance_id) < 3:
                raise malformed("InvalidInstanceID.Malformed", "i", instance_id)
        absent = [i for i in ids if self.records.find(scope, i, Instance) is None]
        if absent:
            raise not_found(absent)
        return [self.get(scope, i) for i in ids]

    def launch(self, scope: Scope, launch: Launch, requester: str = "") -> list[Instance]:
        """One reservation of `launch.count` instances, committed with the addresses they
        take from the subnet."""
        now = self.clock.now()
        subnet: Subnet = editable(launch.subnet)
        data = launch.data
        instance_tags = tags.specified(
            [s for s in data.get("TagSpecifications") or [] if s.get("ResourceType") == "instance"],
            "instance",
        )
        reservation = new_id("r")
        made: list[Instance] = []
        for index in range(launch.count):
            address = cidrs.free_address(subnet.cidr, subnet.used)
            if address is None:
                break
            subnet.used.append(address)
            made.append(
                Instance(
                    id=new_id("i"),
                    account_id=scope.account_id,
                    region=scope.region,
                    tags={**instance_tags, **launch.extra_tags},
                    reservation_id=reservation,
                    image_id=launch.image_id,
                    instance_type=launch.instance_type,
                    subnet_id=subnet.id,
                    vpc_id=subnet.vpc_id,
                    zone=subnet.zone,
                    private_ip=address,
                    mac=new_mac(),
                    interface_id=new_id("eni"),
                    group_ids=[g.id for g in launch.groups],
                    key_name=data.get("KeyName"),
                    user_data=data.get("UserData"),
                    iam_profile=launch.profile_arn,
                    iam_profile_id=launch.profile_id,
                    metadata=dict(launch.metadata),
                    template_id=launch.template_id,
                    template_version=launch.template_version,
                    launch_index=index,
                    launch_time=now,
                    changed=now,
                    requester=requester,
                )
            )
        self.records.commit([subnet, *made])
        self._notify(made)
        return made

    def _moved(
        self,
        scope: Scope,
        instances: Sequence[Instance],
        table: Mapping[InstanceState, InstanceState],
        verb: str,
        reason: Reason | None,
    ) -> list[tuple[Instance, Instance]]:
        """(before, after) of each; refused as a whole if any cannot move."""
        for instance in instances:
            if instance.state not in table:
                raise incorrect_state(instance, verb)
        now = self.clock.now()
        pairs: list[tuple[Instance, Instance]] = []
        for instance in instances:
            after = editable(instance)
            target = table[instance.state]
            if target != instance.state:
                after.state = target
                after.changed = now
                after.state_reason = reason
                shutdown = reason in (Reason.USER_SHUTDOWN, Reason.INSTANCE_SHUTDOWN)
                after.transition_reason = user_initiated(now) if shutdown else ""
            pairs.append((instance, after))
        moved = [a for b, a in pairs if a.state != b.state]
        self.records.commit(moved)
        self._notify(moved)
        return pairs

    def stop(self, scope: Scope, instances: Sequence[Instance]) -> list[tuple[Instance, Instance]]:
        return self._moved(scope, instances, ON_STOP, "stopped", Reason.USER_SHUTDOWN)

    def start(self, scope: Scope, instances: Sequence[Instance]) -> list[tuple[Instance, Instance]]:
        return self._moved(scope, instances, ON_START, "started", Reason.PENDING)

    def terminate(
        self, scope: Scope, instances: Sequence[Instance]
    ) -> list[tuple[Instance, Instance]]:
        return self._moved(scope, instances, ON_TERMINATE, "terminated", Reason.USER_SHUTDOWN)

    def reboot(self, scope: Scope, instances: Sequence[Instance]) -> None:
        """Running instances are rebooted by the controller; others are left as they are,
        as EC2 leaves them."""
        for instance in instances:
            if instance.state in (S.SHUTTING_DOWN, S.TERMINATED):
                raise incorrect_state(instance, "rebooted")
        asked = []
        for instance in instances:
            if instance.state == S.RUNNING:
                changed = editable(instance)
                changed.reboots += 1
                asked.append(changed)
        if asked:
            self.records.commit(asked)
            self._notify(asked)

    def restarted(self, instance: Instance, reboots: int) -> Instance:
        """The host rebooted for the requests up to `reboots`."""
        changed = editable(instance)
        changed.rebooted = reboots
        self.records.commit([changed])
        return changed

    def modify_metadata(
        self, scope: Scope, instance: Instance, given: Mapping[str, Any]
    ) -> Instance:
        if instance.state == S.TERMINATED:
            raise incorrect_state(instance, "modified")
        changed = editable(instance)
        changed.metadata = metadata_options(given, instance.metadata)
        self.records.commit([changed])
        return changed

    # What the machine reports (the controller calls these).

    def _set(
        self,
        instance: Instance,
        state: InstanceState,
        reason: Reason | None,
        transition: str | None = None,
        detail: str = "",
    ) -> Instance:
        changed = editable(instance)
        changed.state = state
        changed.changed = self.clock.now()
        if reason is not None:
            changed.state_reason = reason
            changed.reason_detail = detail
        if transition is not None:
            changed.transition_reason = transition
        if state == S.RUNNING:
            changed.state_reason = None
            changed.reason_detail = ""
            changed.transition_reason = ""
        puts: list[Any] = [changed]
        if state == S.TERMINATED:
            subnet = self.records.find(instance.scope, instance.subnet_id, Subnet)
            if subnet is not None and instance.private_ip in subnet.used:
                freed = editable(subnet)
                freed.used.remove(instance.private_ip)
                puts.append(freed)
        self.records.commit(puts)
        return changed

    def booted(self, instance: Instance) -> Instance:
        """pending -> running."""
        return self._set(instance, S.RUNNING, None)

    def halted(self, instance: Instance) -> Instance:
        """stopping -> stopped."""
        return self._set(instance, S.STOPPED, None)

    def destroyed(self, instance: Instance) -> Instance:
        """shutting-down -> terminated; its address goes back to the subnet."""
        return self._set(instance, S.TERMINATED, None)

    def died(self, instance: Instance) -> Instance:
        """The machine's process tree ended on its own: stopped, instance initiated."""
        reason = Reason.INSTANCE_SHUTDOWN
        return self._set(instance, S.STOPPED, reason, REASON_MESSAGES[reason])

    def failed(self, instance: Instance, detail: str) -> Instance:
        """The machine could not boot: terminated, `Server.InternalError` with what went
        wrong; its address goes back to the subnet."""
        reason = Reason.INTERNAL_ERROR
        return self._set(instance, S.TERMINATED, reason, REASON_MESSAGES[reason], detail)

    def by_address(self, private_ip: str) -> Instance | None:
        """The running instance with this private address (in any account and region); else
        the pending one, whose host is booting: its boot program may ask the metadata
        service before the controller has recorded `running` (on EC2 it only starts once
        the instance runs)."""
        booting = None
        for scope in self.scopes():
            for instance in self.all(scope):
                if instance.private_ip != private_ip:
                    continue
                if instance.state == S.RUNNING:
                    return instance
                if instance.state == S.PENDING and booting is None:
                    booting = instance
        return booting

    def checks_pass(self, instance: Instance) -> bool | None:
        """Its status checks: None while initializing (or not running), then True."""
        if instance.state != S.RUNNING:
            return None
        return True if self.clock.now() - instance.changed >= CHECK_GRACE else None

    def forget_expired(self, scope: Scope) -> int:
        """Forget instances terminated more than an hour ago; how many."""
        now = self.clock.now()
        old = [i for i in self.all(scope) if i.state == S.TERMINATED and now - i.changed > KEPT]
        if old:
            self.records.commit(deletes=old)
        return len(old)
