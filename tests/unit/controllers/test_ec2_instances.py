"""The EC2 instance controller against a fake HostRuntime: pending instances boot and run,
stop halts, terminate destroys and frees the address, a dead process tree is an instance
initiated stop, orphan hosts are removed; and the pure plan."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
from collections.abc import Sequence

from dockyard.controllers.ec2_instances import InstanceController, cluster_of
from dockyard.controllers.ec2_instances_plan import Step, plan
from dockyard.core.clock import ManualClock
from dockyard.core.hosts import BootKind, HostSpec, IngressRule
from dockyard.core.images import ecs_optimized_image, plain_image
from dockyard.core.scope import Scope
from dockyard.services.ec2 import Ec2, provider
from dockyard.services.ec2.instances.model import Instance, InstanceState, Reason
from dockyard.store import SqliteStore
from tests.unit.services.calls import ACCOUNT, REGION, Call, caller

SCOPE = Scope(ACCOUNT, REGION)


class FakeRuntime:
    def __init__(self) -> None:
        self.specs: dict[str, HostSpec] = {}
        self.alive: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.rules: dict[str, tuple[IngressRule, ...]] = {}
        self.fail_boot: str | None = None

    async def boot(self, spec: HostSpec) -> None:
        self.calls.append(("boot", spec.instance_id))
        if self.fail_boot is not None:
            raise OSError(self.fail_boot)
        self.specs[spec.instance_id] = spec
        self.alive.add(spec.instance_id)
        if spec.rules is not None:  # in place before the boot program starts
            self.rules[spec.instance_id] = spec.rules

    async def halt(self, instance_id: str, force: bool = False) -> None:
        self.calls.append(("halt", instance_id))
        self.alive.discard(instance_id)

    async def destroy(self, instance_id: str) -> None:
        self.calls.append(("destroy", instance_id))
        self.alive.discard(instance_id)
        self.specs.pop(instance_id, None)

    async def running(self, instance_id: str) -> bool:
        return instance_id in self.alive

    async def hosts(self) -> list[str]:
        return list(self.specs)

    async def firewall(self, instance_id: str, rules: Sequence[IngressRule]) -> None:
        self.calls.append(("firewall", instance_id))
        self.rules[instance_id] = tuple(rules)


def test_the_plan() -> None:
    assert plan(InstanceState.PENDING, False, False) is Step.BOOT
    assert plan(InstanceState.RUNNING, True, True) is Step.NOTHING
    assert plan(InstanceState.RUNNING, True, False) is Step.DIED
    assert plan(InstanceState.STOPPING, True, True) is Step.HALT
    assert plan(InstanceState.STOPPED, True, True) is Step.HALT
    assert plan(InstanceState.STOPPED, True, False) is Step.NOTHING
    assert plan(InstanceState.SHUTTING_DOWN, True, False) is Step.DESTROY
    assert plan(InstanceState.TERMINATED, True, False) is Step.REMOVE
    assert plan(None, True, True) is Step.REMOVE
    assert plan(None, False, False) is Step.NOTHING


def test_cluster_from_user_data() -> None:
    assert cluster_of(b"#!/bin/sh\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n") == "web"
    assert cluster_of(b"#!/bin/sh\n") == "default"


def test_the_machine_follows_the_state_and_the_state_the_machine() -> None:
    ec2 = Ec2(SqliteStore(":memory:"), ManualClock(), no_runtime=None)
    ec2.load()
    call = caller(provider(ec2))
    runtime = FakeRuntime()
    controller = InstanceController(ec2, runtime, ManualClock())
    user_data = base64.b64encode(b"ECS_CLUSTER=web\n").decode()
    image = ecs_optimized_image(REGION).image_id
    out = call("RunInstances", ImageId=image, MinCount=1, MaxCount=1, UserData=user_data)
    instance_id = out["Instances"][0]["InstanceId"]

    def state() -> InstanceState:
        return ec2.instances.get(SCOPE, instance_id).state

    asyncio.run(controller.reconcile())
    assert state() is InstanceState.RUNNING
    spec = runtime.specs[instance_id]
    assert spec.boot is BootKind.ECS_AGENT and spec.cluster == "web"
    assert spec.address.private_ip == out["Instances"][0]["PrivateIpAddress"]
    assert spec.address.vpc_cidr == "172.31.0.0/16"

    call("StopInstances", InstanceIds=[instance_id])
    asyncio.run(controller.reconcile())
    assert state() is InstanceState.STOPPED
    call("StartInstances", InstanceIds=[instance_id])
    asyncio.run(controller.reconcile())
    assert state() is InstanceState.RUNNING

    runtime.alive.discard(instance_id)  # its process tree died
    asyncio.run(controller.reconcile())
    died = ec2.instances.get(SCOPE, instance_id)
    assert died.state is InstanceState.STOPPED
    assert died.state_reason is Reason.INSTANCE_SHUTDOWN

    call("TerminateInstances", InstanceIds=[instance_id])
    asyncio.run(controller.reconcile())
    assert state() is InstanceState.TERMINATED
    assert instance_id not in runtime.specs

    runtime.specs["i-0orphan"] = spec
    asyncio.run(controller.reconcile())
    assert ("destroy", "i-0orphan") in runtime.calls


def served() -> tuple[Ec2, Call]:
    ec2 = Ec2(SqliteStore(":memory:"), ManualClock(), no_runtime=None)
    ec2.load()
    return ec2, caller(provider(ec2))


def test_a_host_that_cannot_boot_terminates_its_instance() -> None:
    ec2, call = served()
    runtime = FakeRuntime()
    runtime.fail_boot = "no such bridge"
    controller = InstanceController(ec2, runtime, ManualClock())
    out = call("RunInstances", ImageId=plain_image(REGION).image_id, MinCount=1, MaxCount=1)
    instance_id = out["Instances"][0]["InstanceId"]
    subnet = out["Instances"][0]["SubnetId"]
    free = call("DescribeSubnets", SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"]
    asyncio.run(controller.reconcile())
    described = call("DescribeInstances", InstanceIds=[instance_id])
    failed = described["Reservations"][0]["Instances"][0]
    assert failed["State"]["Name"] == "terminated"
    assert failed["StateReason"] == {
        "Code": "Server.InternalError",
        "Message": "Server.InternalError: Internal error on launch: no such bridge",
    }
    after = call("DescribeSubnets", SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"]
    assert after == free + 1
    assert ("destroy", instance_id) in runtime.calls


def test_agents_get_a_join_token_in_their_environment() -> None:
    ec2, call = served()
    runtime = FakeRuntime()
    asked: list[tuple[str, str]] = []

    def agent_env(instance: Instance, cluster: str) -> dict[str, str]:
        asked.append((instance.id, cluster))
        return {"DOCKYARD_JOIN_TOKEN": "dyj.1.secret"}

    controller = InstanceController(ec2, runtime, ManualClock(), agent_env=agent_env)
    user_data = base64.b64encode(b"ECS_CLUSTER=web\n").decode()
    ecs = call("RunInstances", ImageId=ecs_optimized_image(REGION).image_id, MinCount=1,
               MaxCount=1, UserData=user_data)["Instances"][0]["InstanceId"]  # fmt: skip
    plain = call("RunInstances", ImageId=plain_image(REGION).image_id, MinCount=1,
                 MaxCount=1)["Instances"][0]["InstanceId"]  # fmt: skip
    asyncio.run(controller.reconcile())
    assert runtime.specs[ecs].secret_env == {"DOCKYARD_JOIN_TOKEN": "dyj.1.secret"}
    assert runtime.specs[plain].secret_env == {}
    assert asked == [(ecs, "web")]


def test_firewalls_follow_rules_and_members() -> None:
    ec2, call = served()
    runtime = FakeRuntime()
    balancers: set[str] = set()
    controller = InstanceController(ec2, runtime, ManualClock(),
                                    balancer_groups=lambda: balancers)  # fmt: skip
    vpc = call("DescribeVpcs")["Vpcs"][0]["VpcId"]
    web = call("CreateSecurityGroup", GroupName="web", Description="w", VpcId=vpc)["GroupId"]
    app = call("CreateSecurityGroup", GroupName="app", Description="a", VpcId=vpc)["GroupId"]
    image = plain_image(REGION).image_id

    def run(group: str) -> tuple[str, str]:
        out = call("RunInstances", ImageId=image, MinCount=1, MaxCount=1,
                   SecurityGroupIds=[group])["Instances"][0]  # fmt: skip
        return out["InstanceId"], out["PrivateIpAddress"]

    server, _ = run(web)
    asyncio.run(controller.reconcile())  # boots
    asyncio.run(controller.reconcile())
    assert runtime.rules[server] == ()  # a new group lets nothing in
    call("AuthorizeSecurityGroupIngress", GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "UserIdGroupPairs": [{"GroupId": app}]}])  # fmt: skip
    asyncio.run(controller.reconcile())
    assert runtime.rules[server] == ()  # no member of app runs yet
    client, client_ip = run(app)
    asyncio.run(controller.reconcile())
    asyncio.run(controller.reconcile())
    assert runtime.rules[server] == (IngressRule("tcp", 80, 80, (f"{client_ip}/32",)),)
    calls = len(runtime.calls)
    asyncio.run(controller.reconcile())
    assert len(runtime.calls) == calls  # nothing changed: nothing applied
    call("StopInstances", InstanceIds=[client])
    asyncio.run(controller.reconcile())
    assert runtime.rules[server] == ()
    balancers.add(app)  # a load balancer's group: this machine's own traffic gets in
    asyncio.run(controller.reconcile())
    subnet = ec2.instances.get(SCOPE, server).subnet_id
    cidr = call("DescribeSubnets", SubnetIds=[subnet])["Subnets"][0]["CidrBlock"]
    router = str(ipaddress.IPv4Network(cidr).network_address + 1)
    assert runtime.rules[server] == (IngressRule("tcp", 80, 80, (f"{router}/32",)),)


def test_reboot_halts_and_boots_the_host_and_the_console_shows_it() -> None:
    ec2, call = served()
    runtime = FakeRuntime()
    ec2.console = lambda iid: b"boot " * runtime.calls.count(("boot", iid))
    controller = InstanceController(ec2, runtime, ManualClock())
    out = call("RunInstances", ImageId=plain_image(REGION).image_id, MinCount=1, MaxCount=1)
    instance_id = out["Instances"][0]["InstanceId"]
    assert "Output" not in call("GetConsoleOutput", InstanceId=instance_id)
    asyncio.run(controller.reconcile())
    call("RebootInstances", InstanceIds=[instance_id])
    asyncio.run(controller.reconcile())
    assert runtime.calls.count(("boot", instance_id)) == 2
    assert ("halt", instance_id) in runtime.calls
    assert ec2.instances.get(SCOPE, instance_id).state is InstanceState.RUNNING
    asyncio.run(controller.reconcile())  # one reboot asked, one done
    assert runtime.calls.count(("boot", instance_id)) == 2
    console = call("GetConsoleOutput", InstanceId=instance_id, Latest=True)
    assert base64.b64decode(console["Output"]) == b"boot boot "
    assert console["InstanceId"] == instance_id and console["Timestamp"]
    call("StopInstances", InstanceIds=[instance_id])
    call("RebootInstances", InstanceIds=[instance_id])  # a stopped one is left stopped
    asyncio.run(controller.reconcile())
    asyncio.run(controller.reconcile())
    assert ec2.instances.get(SCOPE, instance_id).state is InstanceState.STOPPED
    assert runtime.calls.count(("boot", instance_id)) == 2


def test_a_launch_wakes_the_controller_and_many_boot_side_by_side() -> None:
    ec2, call = served()
    clock = ManualClock()  # never advanced: nothing waits for the next sweep

    class SlowRuntime(FakeRuntime):
        def __init__(self) -> None:
            super().__init__()
            self.booting = 0
            self.most = 0

        async def boot(self, spec: HostSpec) -> None:
            self.booting += 1
            self.most = max(self.most, self.booting)
            await asyncio.sleep(0.05)
            self.booting -= 1
            await super().boot(spec)

    runtime = SlowRuntime()
    controller = InstanceController(ec2, runtime, clock)
    image = plain_image(REGION).image_id

    async def scenario() -> None:
        controller.start()
        try:
            await asyncio.sleep(0.01)  # the first sweep: nothing yet
            out = call("RunInstances", ImageId=image, MinCount=4, MaxCount=4)
            ids = [i["InstanceId"] for i in out["Instances"]]
            for _ in range(200):
                if all(ec2.instances.get(SCOPE, i).state is InstanceState.RUNNING for i in ids):
                    break
                await asyncio.sleep(0.01)
            assert [ec2.instances.get(SCOPE, i).state for i in ids] == [InstanceState.RUNNING] * 4
            assert runtime.most == 4  # booted together, not one after another
            call("StopInstances", InstanceIds=ids[:1])
            for _ in range(200):
                if ec2.instances.get(SCOPE, ids[0]).state is InstanceState.STOPPED:
                    break
                await asyncio.sleep(0.01)
            assert ec2.instances.get(SCOPE, ids[0]).state is InstanceState.STOPPED
        finally:
            await controller.stop()

    asyncio.run(scenario())


def test_a_booted_host_has_its_rules_before_it_shows_running() -> None:
    ec2, call = served()
    runtime = FakeRuntime()
    controller = InstanceController(ec2, runtime, ManualClock())
    vpc = call("DescribeVpcs")["Vpcs"][0]["VpcId"]
    web = call("CreateSecurityGroup", GroupName="web", Description="w", VpcId=vpc)["GroupId"]
    call("AuthorizeSecurityGroupIngress", GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])  # fmt: skip
    out = call("RunInstances", ImageId=plain_image(REGION).image_id, MinCount=1, MaxCount=1,
               SecurityGroupIds=[web])["Instances"][0]  # fmt: skip
    asyncio.run(controller.reconcile())
    iid = out["InstanceId"]
    assert runtime.specs[iid].rules == (IngressRule("tcp", 80, 80, ("10.0.0.0/8",)),)
    assert ("firewall", iid) not in runtime.calls  # it booted with them: nothing to change
    assert ec2.instances.get(SCOPE, iid).state is InstanceState.RUNNING
