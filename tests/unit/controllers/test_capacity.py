"""The cluster auto scaling controller over ECS and a real EC2 Auto Scaling (through the port
the server wires): tasks waiting in PROVISIONING, CapacityProviderReservation published each
minute, scale-in protection following the tasks, managed draining, the PROVISIONING
timeout."""

from __future__ import annotations

from typing import Any

from dockyard.controllers.capacity import EXPIRED_REASON, CapacityController
from dockyard.controllers.service_apply import start_tasks
from dockyard.core.scaling import AlarmFiring
from dockyard.services.ec2autoscaling import instances, lifecycle, policies
from dockyard.services.ec2autoscaling.ports import ServedGroups
from dockyard.services.ecs.capacity.managed import DRAINING_HOOK
from tests.unit.services.ec2autoscaling.fakes import SCOPE, add_instance
from tests.unit.services.ecs.capacity_harness import SCALING, Setup, setup
from tests.unit.services.ecs.tasks_harness import (
    Client,
    make_ecs,
    make_link,
    registration,
    run,
)

STRATEGY = [{"capacityProvider": "cp", "weight": 1}]


def ready(**asg: Any) -> tuple[Setup, CapacityController]:
    s = setup(NewInstancesProtectedFromScaleIn=True)
    s.provider(managedScaling=SCALING, managedTerminationProtection="ENABLED", **asg)
    s.client("CreateCluster", clusterName="default")
    s.client("PutClusterCapacityProviders", cluster="default", capacityProviders=["cp"],
             defaultCapacityProviderStrategy=STRATEGY)  # fmt: skip
    s.client.taskdef("web")
    return s, CapacityController(s.ecs, s.metrics, s.w.clock)


def join(s: Setup, instance_id: str) -> str:
    """An EC2 instance of the group in service, and its agent registered in the cluster."""
    add_instance(s.w, "web", instance_id)
    arn = run(s.link.register(registration()))
    inst = s.ecs.instances.by_arn[arn]
    inst.ec2_instance_id = instance_id
    s.ecs.instances.save(inst)
    return arn


def published(s: Setup) -> list[tuple[float, dict[str, str], float | None]]:
    return [(d.timestamp, dict(d.dimensions), d.value) for _, _, d in s.metrics.data
            if d.metric_name == "CapacityProviderReservation"]  # fmt: skip


def next_minute(s: Setup, ctl: CapacityController) -> float | None:
    s.w.clock.advance(60)
    ctl.step()
    return published(s)[-1][2]


def test_tasks_wait_for_capacity_and_are_placed_when_it_arrives() -> None:
    s, ctl = ready()
    out = s.client.run_task("web", count=2, capacityProviderStrategy=STRATEGY)
    assert out["failures"] == []
    tasks = out["tasks"]
    assert [t["lastStatus"] for t in tasks] == ["PROVISIONING", "PROVISIONING"]
    assert all("containerInstanceArn" not in t for t in tasks)
    assert all(t["capacityProviderName"] == "cp" for t in tasks)
    ctl.step()
    ((stamp, dims, value),) = published(s)
    assert dims == {"CapacityProviderName": "cp", "ClusterName": "default"}
    assert stamp % 60 == 0
    assert value == 200.0  # tasks waiting and no instance: scale from zero
    # Nothing more within the same minute.
    ctl.step()
    assert len(published(s)) == 1

    instance = join(s, "i-0aaa")
    ctl.step()
    for t in tasks:
        placed = s.client.describe(t["taskArn"])
        assert placed["containerInstanceArn"] == instance
        assert placed["lastStatus"] == "PROVISIONING"
    described = s.client.instance(instance)
    assert described["capacityProviderName"] == "cp"
    assert s.group().instances["i-0aaa"].protected  # it runs tasks now
    assert next_minute(s, ctl) == 100.0
    # Later tasks go straight to the provider's instance.
    later = s.client.run_task("web", capacityProviderStrategy=STRATEGY)["tasks"][0]
    assert later["containerInstanceArn"] == instance


def test_more_instances_are_asked_for_when_the_tasks_do_not_fit() -> None:
    s, ctl = ready()
    instance = join(s, "i-0aaa")  # 2048 CPU units: 8 tasks of 256
    ctl.step()  # the instance joins the provider
    out = s.client.run_task("web", count=10, capacityProviderStrategy=STRATEGY)
    placed = [t for t in out["tasks"] if t.get("containerInstanceArn") == instance]
    assert len(placed) == 8
    assert next_minute(s, ctl) == 200.0  # M = 1 + 1 more instance for the 2 waiting, N = 1


def test_protection_is_released_when_the_instance_is_idle() -> None:
    s, ctl = ready()
    join(s, "i-0aaa")
    task = s.client.run_task("web", capacityProviderStrategy=STRATEGY)["tasks"][0]
    ctl.step()
    assert s.group().instances["i-0aaa"].protected
    s.client("StopTask", task=task["taskArn"])
    ctl.step()
    assert not s.group().instances["i-0aaa"].protected
    assert next_minute(s, ctl) == 0.0  # M = 0 of N = 1: the group may scale in


def test_a_terminating_instance_is_drained_before_it_goes() -> None:
    s, ctl = ready()
    instance = join(s, "i-0aaa")
    task = s.client.run_task("web", capacityProviderStrategy=STRATEGY)["tasks"][0]
    instances.terminate(s.w.asg, SCOPE, "i-0aaa", decrement=False)
    group = s.group().copy()
    change = lifecycle.drained(s.w.asg, group, group.instances["i-0aaa"])
    s.w.asg.commit([group], activities=change.activities, events=change.events)
    member = s.group().instances["i-0aaa"]
    assert (member.state, member.hook_name) == ("Terminating:Wait", DRAINING_HOOK)
    ctl.step()
    assert s.client.instance(instance)["status"] == "DRAINING"
    assert s.group().instances["i-0aaa"].state == "Terminating:Wait"  # its task still runs
    s.client("StopTask", task=task["taskArn"])
    ctl.step()
    assert s.group().instances["i-0aaa"].state == "Terminating:Proceed"


def test_tasks_that_wait_too_long_are_stopped() -> None:
    s, ctl = ready()
    task = s.client.run_task("web", capacityProviderStrategy=STRATEGY)["tasks"][0]
    s.w.clock.advance(29 * 60)
    ctl.step()
    assert s.client.describe(task["taskArn"])["lastStatus"] == "PROVISIONING"
    s.w.clock.advance(60)
    ctl.step()
    stopped = s.client.describe(task["taskArn"])
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"] == EXPIRED_REASON


def test_without_managed_scaling_tasks_that_do_not_fit_fail_as_before() -> None:
    s = setup()
    s.provider()  # managed scaling off
    s.client("CreateCluster", clusterName="default")
    s.client("PutClusterCapacityProviders", cluster="default", capacityProviders=["cp"],
             defaultCapacityProviderStrategy=STRATEGY)  # fmt: skip
    s.client.taskdef("web")
    try:
        s.client.run_task("web", capacityProviderStrategy=STRATEGY)
    except Exception as exc:  # no instance of the provider: refused, nothing waits
        assert "capacity provider cp" in str(exc)
    else:
        raise AssertionError("RunTask should have been refused")
    assert s.ecs.tasks.waiting(s.ecs.clusters.by_arn[next(iter(s.ecs.clusters.by_arn))].arn) == []


def test_the_group_policy_scales_from_zero_on_the_published_reservation() -> None:
    """The contract with EC2 Auto Scaling: the high alarm of ECS's policy, at 200, takes the
    group from 0 to 1 instance; at M/N it takes the group to M."""
    s, ctl = ready()
    (policy,) = [p for p in s.w.asg.policies.values() if p.name.startswith("ECSManaged")]
    high = next(n for n in policy.alarm_names if "AlarmHigh" in n)
    s.client.run_task("web", count=3, capacityProviderStrategy=STRATEGY)
    ctl.step()
    value = published(s)[-1][2]
    firing = AlarmFiring(high, f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{high}",
                         "ALARM", threshold=100.0, value=value)  # fmt: skip
    assert policies.invoke(s.w.asg, "123456789012", "us-east-1", policy.arn, firing)
    assert s.group().desired == 1


def test_a_service_on_a_managed_provider_waits_for_capacity() -> None:
    s, ctl = ready()
    s.client("CreateService", cluster="default", serviceName="api", taskDefinition="web",
             desiredCount=2, capacityProviderStrategy=STRATEGY)  # fmt: skip
    service = next(iter(s.ecs.services.by_arn.values()))
    deployment = service.deployments[0]
    started = start_tasks(s.ecs, service, deployment, 2, None, s.w.clock.now())
    assert [t.host_arn for t in started] == ["", ""]  # waiting, not failed
    assert not any("unable to place" in e.message for e in service.events)
    instance = join(s, "i-0aaa")
    ctl.step()
    assert {s.ecs.tasks.by_arn[t.arn].host_arn for t in started} == {instance}


def test_waiting_tasks_survive_a_restart(tmp_path: Any) -> None:
    path = str(tmp_path / "state.db")
    s = setup()
    s.ecs = make_ecs(path, clock=s.w.clock)
    s.ecs.capacity_providers.groups = ServedGroups(s.w.asg)
    s.client, s.link = Client(s.ecs), make_link(s.ecs)
    s.provider(managedScaling=SCALING)
    s.client("CreateCluster", clusterName="default")
    s.client("PutClusterCapacityProviders", cluster="default", capacityProviders=["cp"],
             defaultCapacityProviderStrategy=STRATEGY)  # fmt: skip
    s.client.taskdef("web")
    task = s.client.run_task("web", capacityProviderStrategy=STRATEGY)["tasks"][0]
    # The server restarts: the task is still waiting, and is placed once capacity comes.
    s.ecs = make_ecs(path, clock=s.w.clock)
    s.ecs.capacity_providers.groups = ServedGroups(s.w.asg)
    s.client, s.link = Client(s.ecs), make_link(s.ecs)
    assert s.client.describe(task["taskArn"])["lastStatus"] == "PROVISIONING"
    instance = join(s, "i-0aaa")
    CapacityController(s.ecs, s.metrics, s.w.clock).step()
    assert s.client.describe(task["taskArn"])["containerInstanceArn"] == instance
