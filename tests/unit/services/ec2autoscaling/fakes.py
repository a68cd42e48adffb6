"""Stand-ins for EC2, ELB and CloudWatch behind EC2 Auto Scaling's ports, and a service built
on them with a manual clock (unit tests only)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dockyard.core.clock import ManualClock
from dockyard.core.fleet import (
    FleetError,
    InstanceStatus,
    LaunchRequest,
    TemplateVersion,
    missing_template,
)
from dockyard.core.loadbalancing import Target
from dockyard.core.scaling import AlarmSpec
from dockyard.core.scope import Scope
from dockyard.services.ec2autoscaling import lifecycle
from dockyard.services.ec2autoscaling.groups import create
from dockyard.services.ec2autoscaling.model import Group, GroupInstance, LifecycleState
from dockyard.services.ec2autoscaling.service import Ec2AutoScaling
from dockyard.services.ec2autoscaling.validation import group_spec
from dockyard.store.base import StoreUnavailable
from dockyard.store.sqlite import SqliteStore

SCOPE = Scope("123456789012", "us-east-1")
SUBNETS = {"subnet-a": "us-east-1a", "subnet-b": "us-east-1b", "subnet-c": "us-east-1c"}
LT = "lt-0123456789abcdef0"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"


@dataclass
class FakeFleet:
    subnets: dict[str, str] = field(default_factory=lambda: dict(SUBNETS))
    instances: dict[str, InstanceStatus] = field(default_factory=dict)
    launched: list[LaunchRequest] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    # Launch templates: (id, name) -> (default version, latest version).
    templates: dict[tuple[str, str], tuple[int, int]] = field(
        default_factory=lambda: {(LT, "web-template"): (1, 2)}
    )
    fail_launch: FleetError | None = None

    def template(self, scope: Scope, template_id: str | None, template_name: str | None,
                 version: str) -> TemplateVersion:  # fmt: skip
        for (tid, tname), (default, latest) in self.templates.items():
            if (template_id and tid == template_id) or (not template_id and tname == template_name):
                number = {"$Default": default, "$Latest": latest}.get(
                    version, int(version) if version.isdigit() else 0)  # fmt: skip
                if not 1 <= number <= latest:
                    raise missing_template(tid, tname, version)
                return TemplateVersion(tid, tname, number, "t3.micro", "ami-12345678")
        raise missing_template(template_id, template_name)

    async def launch(self, scope: Scope, request: LaunchRequest) -> list[str]:
        self.launched.append(request)
        if self.fail_launch is not None:
            raise self.fail_launch
        ids = []
        for _ in range(request.count):
            iid = f"i-{len(self.instances):017x}"
            zone = (self.subnets[request.subnet_id] if request.subnet_id
                    else request.availability_zone or "us-east-1a")  # fmt: skip
            self.instances[iid] = InstanceStatus(iid, "pending", zone, request.subnet_id or "",
                                                 "10.0.0.1", "t3.micro", None,
                                                 request.template_id, request.version)  # fmt: skip
            ids.append(iid)
        return ids

    async def terminate(self, scope: Scope, instance_ids: Sequence[str]) -> None:
        self.terminated.extend(instance_ids)
        for iid in instance_ids:
            if iid in self.instances:
                self.instances[iid] = dataclasses.replace(self.instances[iid], state="terminated")

    def run(self, iid: str, *, healthy: bool | None = True) -> None:
        """EC2 has started the instance (and its status checks say `healthy`)."""
        self.instances[iid] = dataclasses.replace(self.instances[iid], state="running",
                                                  healthy=healthy)  # fmt: skip

    def describe(self, scope: Scope, instance_ids: Sequence[str]) -> list[InstanceStatus]:
        return [self.instances[i] for i in instance_ids if i in self.instances]

    def zones(self, scope: Scope, subnet_ids: Sequence[str]) -> Mapping[str, str]:
        return {s: self.subnets[s] for s in subnet_ids if s in self.subnets}


@dataclass
class FakeTargetGroups:
    """Target groups that remember their targets: registered ones are `initial` until a test
    says otherwise, deregistered ones `draining` until the test drains them."""

    kinds: dict[str, str] = field(default_factory=lambda: {TG: "instance"})
    targets: dict[tuple[str, str], str] = field(default_factory=dict)  # (arn, id) -> state
    calls: list[tuple[str, str, str, int]] = field(default_factory=list)

    def target_type(self, account_id: str, region: str, target_group_arn: str) -> str | None:
        return self.kinds.get(target_group_arn)

    def register(self, account_id: str, region: str, arn: str, target: Target) -> None:
        self.calls.append(("register", arn, target.target_id, target.port))
        self.targets[(arn, target.target_id)] = "initial"

    def deregister(self, account_id: str, region: str, arn: str, target: Target) -> None:
        self.calls.append(("deregister", arn, target.target_id, target.port))
        if (arn, target.target_id) in self.targets:
            self.targets[(arn, target.target_id)] = "draining"

    def health(self, account_id: str, region: str, arn: str, target: Target) -> str:
        return self.targets.get((arn, target.target_id), "unused")

    def drain(self) -> None:
        """Every draining target has drained (its deregistration delay is over)."""
        self.targets = {k: v for k, v in self.targets.items() if v != "draining"}


@dataclass
class FakeAlarms:
    alarms: dict[str, AlarmSpec] = field(default_factory=dict)

    def put_alarm(self, account_id: str, region: str, spec: AlarmSpec) -> str:
        self.alarms[spec.name] = spec
        return f"arn:aws:cloudwatch:{region}:{account_id}:alarm:{spec.name}"

    def delete_alarms(self, account_id: str, region: str, names: list[str]) -> None:
        for name in names:
            self.alarms.pop(name, None)


@dataclass
class Sink:
    events: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, event: Any) -> None:
        self.events.append(event)


class FailingStore(SqliteStore):
    """A store whose writes fail while `failing` is set."""

    failing = False

    def write(self, puts: Any = (), deletes: Any = ()) -> None:
        if self.failing:
            raise StoreUnavailable("disk full")
        super().write(puts, deletes)


@dataclass
class World:
    asg: Ec2AutoScaling
    clock: ManualClock
    fleet: FakeFleet
    alarms: FakeAlarms
    sink: Sink
    store: FailingStore
    target_groups: FakeTargetGroups

    def events(self) -> list[dict[str, Any]]:
        self.asg.outbox.drain()
        return self.sink.events


def world() -> World:
    clock = ManualClock(start=1_700_000_000.0)
    fleet, alarms, sink = FakeFleet(), FakeAlarms(), Sink()
    store = FailingStore(":memory:")
    tgs = FakeTargetGroups()
    asg = Ec2AutoScaling(store, clock, fleet=fleet, target_groups=tgs, alarms=alarms,
                         events=sink)  # fmt: skip
    return World(asg, clock, fleet, alarms, sink, store, tgs)


def params(**extra: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "LaunchTemplate": {"LaunchTemplateId": LT},
        "MinSize": 1,
        "MaxSize": 4,
        "VPCZoneIdentifier": "subnet-a,subnet-b",
    }
    p.update(extra)
    return {k: v for k, v in p.items() if v is not None}


def make_group(w: World, name: str = "web", **extra: Any) -> Group:
    return create(w.asg, SCOPE, name, group_spec(params(**extra), creating=True))


def add_instance(w: World, name: str, iid: str, zone: str = "us-east-1a", *,
                 launched: float | None = None, version: str = "1",
                 template_id: str = "lt-0123456789abcdef0",
                 in_service: bool = True) -> GroupInstance:  # fmt: skip
    """An instance the group launched, taken through Pending (and its launch hooks, if none
    wait) to InService, each step committed as the controller commits it."""
    group = w.asg.group(SCOPE, name).copy()
    subnet = next(s for s, z in SUBNETS.items() if z == zone)
    inst = GroupInstance(iid, zone, subnet, "t3.micro", template_id, None, version,
                         LifecycleState.PENDING,
                         w.clock.now() if launched is None else launched)  # fmt: skip
    before = len(group.counted())
    change = lifecycle.launched(w.asg, group, inst, before)
    w.asg.commit([group], activities=change.activities, events=change.events)
    group = w.asg.group(SCOPE, name).copy()
    change = lifecycle.running(w.asg, group, group.instances[iid])
    w.asg.commit([group], activities=change.activities, events=change.events)
    if in_service:
        proceed(w, name, iid)
    return w.asg.group(SCOPE, name).instances[iid]


def proceed(w: World, name: str, iid: str) -> None:
    """The controller's step for an instance in Pending:Proceed: it goes in service."""
    group = w.asg.group(SCOPE, name).copy()
    if group.instances[iid].state == LifecycleState.PENDING_PROCEED:
        change = lifecycle.in_service(w.asg, group, group.instances[iid])
        w.asg.commit([group], activities=change.activities, events=change.events)
