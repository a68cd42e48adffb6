"""Instance refresh through the group controller: batches that keep healthy capacity at
MinHealthyPercentage, the desired configuration, checkpoints, cancel, AWS's errors."""

from __future__ import annotations

import pytest

from dockyard.core.errors import ServiceError
from dockyard.services.ec2autoscaling import refresh
from dockyard.services.ec2autoscaling.model import RefreshStatus
from tests.unit.controllers.test_asg import controller, group, in_service, reconcile, run_all
from tests.unit.services.ec2autoscaling.fakes import LT, SCOPE, World, make_group, world


def healthy(w: World) -> int:
    return sum(1 for i in group(w).instances.values()
               if i.state.value == "InService" and i.health.value == "Healthy")  # fmt: skip


def drive(w: World, rounds: int = 30) -> list[int]:
    """Reconcile until the refresh ends, EC2 starting what is launched; the healthy count
    seen after each reconcile."""
    ctl = controller(w)
    seen = []
    for _ in range(rounds):
        run_all(w)
        reconcile(ctl, w)
        seen.append(healthy(w))
        if group(w).active_refresh() is None:
            break
    return seen


def started(w: World, **prefs: object) -> str:
    return refresh.start(w.asg, SCOPE, "web", {"Preferences": prefs}).id


def test_a_refresh_replaces_every_instance_keeping_the_minimum_healthy() -> None:
    w = world()
    make_group(w, MinSize=4, MaxSize=6)
    in_service(w, controller(w))
    before = set(group(w).instances)
    started(w, MinHealthyPercentage=50, InstanceWarmup=0)
    seen = drive(w)
    r = group(w).refreshes[-1]
    assert r.status == RefreshStatus.SUCCESSFUL and r.percentage == 100
    assert min(seen) >= 2  # 50 % of 4
    assert not before & set(group(w).instances) and healthy(w) == 4
    assert sorted(r.replaced) == sorted(before)
    cause = next(a.cause for a in w.asg.activities[group(w).key]
                 if a.description == f"Terminating EC2 instance: {r.replaced[0]}")  # fmt: skip
    assert "in response to an instance refresh." in cause


def test_at_one_hundred_percent_it_replaces_one_at_a_time() -> None:
    w = world()
    make_group(w, MinSize=2, MaxSize=4)
    in_service(w, controller(w))
    started(w, MinHealthyPercentage=100, InstanceWarmup=0)
    seen = drive(w)
    assert group(w).refreshes[-1].status == RefreshStatus.SUCCESSFUL
    assert min(seen) >= 1


def test_the_desired_configuration_launches_the_replacements_and_becomes_the_groups() -> None:
    w = world()
    make_group(w, MinSize=1)
    in_service(w, controller(w))
    refresh.start(
        w.asg,
        SCOPE,
        "web",
        {
            "DesiredConfiguration": {"LaunchTemplate": {"LaunchTemplateId": LT, "Version": "2"}},
            "Preferences": {"InstanceWarmup": 0},
        },
    )
    drive(w)
    g = group(w)
    assert g.refreshes[-1].status == RefreshStatus.SUCCESSFUL
    assert w.fleet.launched[-1].version == "2"
    assert g.template_version == "2"
    assert [i.template_version for i in g.instances.values()] == ["2"]


def test_a_checkpoint_pauses_for_its_delay() -> None:
    w = world()
    make_group(w, MinSize=2, MaxSize=4)
    in_service(w, controller(w))
    started(w, MinHealthyPercentage=50, InstanceWarmup=0, CheckpointPercentages=[50, 100],
            CheckpointDelay=600)  # fmt: skip
    drive(w, rounds=8)
    r = group(w).refreshes[-1]
    assert r.status == RefreshStatus.IN_PROGRESS and r.checkpoint_done == 50
    assert r.status_reason.startswith("Waiting for checkpoint 50%")
    assert len(r.replaced) == 1
    w.clock.advance(601)
    drive(w)
    assert group(w).refreshes[-1].status == RefreshStatus.SUCCESSFUL


def test_one_refresh_at_a_time_and_cancel() -> None:
    w = world()
    make_group(w, MinSize=2, MaxSize=4)
    in_service(w, controller(w))
    rid = started(w)
    with pytest.raises(ServiceError) as err:
        started(w)
    assert err.value.code == "InstanceRefreshInProgress"
    assert refresh.cancel(w.asg, SCOPE, "web") == rid
    drive(w)
    assert group(w).refreshes[-1].status == RefreshStatus.CANCELLED
    with pytest.raises(ServiceError) as err:
        refresh.cancel(w.asg, SCOPE, "web")
    assert err.value.code == "ActiveInstanceRefreshNotFound"
    assert err.value.message == ("No in progress or pending Instance Refresh found for Auto "
                                 "Scaling group web")  # fmt: skip


@pytest.mark.parametrize(
    ("prefs", "name"),
    [({"MaxHealthyPercentage": 150}, "MaxHealthyPercentage"),
     ({"AutoRollback": True}, "AutoRollback"),
     ({"MinHealthyPercentage": 101}, "MinHealthyPercentage"),
     ({"CheckpointPercentages": [60, 20]}, "CheckpointPercentages")],
)  # fmt: skip
def test_what_it_does_not_do_is_refused_by_name(prefs: dict[str, object], name: str) -> None:
    w = world()
    make_group(w)
    with pytest.raises(ServiceError) as err:
        started(w, **prefs)
    assert err.value.code == "ValidationError" and name in err.value.message
    assert group(w).refreshes == []


def test_with_elb_health_checks_a_replacement_counts_once_its_target_is_healthy() -> None:
    w = world()
    make_group(w, MinSize=2, MaxSize=4)
    in_service(w, controller(w))
    g = group(w)
    g.health_check_type, g.target_groups = "ELB", ["arn:tg"]
    started(w, MinHealthyPercentage=50, InstanceWarmup=0)
    active = group(w).active_refresh()
    assert active is not None
    old = sorted(group(w).instances)
    now = w.clock.now()
    # both serve: one goes (50 % of 2 stays)
    first = refresh.step(g, active, now, frozenset(old))
    assert len(first.take) == 1
    # one serves, the other is InService and Healthy but its target is not healthy yet:
    # nothing more goes
    waiting = refresh.step(g, active, now, frozenset(old[:1]))
    assert waiting.take == []
    # without ELB health checks, InService and Healthy is enough
    assert len(refresh.step(g, active, now, None).take) == 1
