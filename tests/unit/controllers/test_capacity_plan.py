"""The cluster auto scaling plan: CapacityProviderReservation (M / N) as ECS documents it,
managed termination protection and managed draining decisions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dockyard.controllers.capacity_plan import (
    PROVISIONING_TIMEOUT,
    Host,
    Observed,
    Settings,
    Waiting,
    instances_needed,
    plan,
    reservation,
)

NOW = 1_700_000_000.0
HOOK = "ecs-managed-draining-termination-hook"


def host(iid: str, tasks: int = 0, *, state: str = "InService", registered: bool = True,
         protected: bool = False, cpu: int = 2048, memory: int = 4096,
         hook: str | None = None, status: str = "ACTIVE") -> Host:  # fmt: skip
    return Host(iid, state, protected, hook, f"arn:ci/{iid}" if registered else None, status,
                cpu, memory, tasks, tasks)  # fmt: skip


def waiting(n: int, cpu: int = 1024, memory: int = 1024, ports: int = 0,
            since: float = NOW) -> tuple[Waiting, ...]:  # fmt: skip
    return tuple(Waiting(f"t{cpu}-{memory}-{ports}-{i}", cpu, memory, ports, since)
                 for i in range(n))  # fmt: skip


def test_special_cases_empty_group_and_scale_from_zero() -> None:
    assert reservation(0, 0) == 100.0
    assert reservation(3, 0) == 200.0
    assert reservation(1, 2) == 50.0
    empty = plan(Observed(Settings()), NOW)
    assert (empty.m, empty.n, empty.reservation) == (0, 0, 100.0)
    # Tasks waiting and no instance at all: 200, so the group scales from zero.
    cold = plan(Observed(Settings(), waiting=waiting(3)), NOW)
    assert (cold.m, cold.n, cold.reservation) == (1, 0, 200.0)


def test_without_waiting_tasks_m_counts_instances_running_tasks() -> None:
    # The documentation's example: three instances, two of them running tasks.
    p = plan(Observed(Settings(), (host("i-1", 2), host("i-2", 1), host("i-3"))), NOW)
    assert (p.m, p.n) == (2, 3)
    assert round(p.reservation, 2) == 66.67
    busy = plan(Observed(Settings(), (host("i-1", 1), host("i-2", 4))), NOW)
    assert busy.reservation == 100.0


def test_daemon_tasks_do_not_count() -> None:
    only_daemons = Host("i-1", "InService", False, None, "arn:ci/i-1", "ACTIVE", 2048, 4096,
                        tasks=0, all_tasks=1)  # fmt: skip
    p = plan(Observed(Settings(), (only_daemons, host("i-2", 1))), NOW)
    assert (p.m, p.n, p.reservation) == (1, 2, 50.0)


def test_waiting_tasks_are_bin_packed_onto_the_instance_size() -> None:
    # Two instances busy; 10 tasks of 1 vCPU / 1 GiB on 2 vCPU / 4 GiB instances: 2 per
    # instance, 5 more instances: M = 7, N = 2.
    hosts = (host("i-1", 2), host("i-2", 2))
    p = plan(Observed(Settings(), hosts, waiting(10)), NOW)
    assert (p.m, p.n, p.reservation) == (7, 2, 350.0)


def test_the_estimate_stays_within_the_scaling_steps() -> None:
    assert instances_needed(waiting(10), (2048, 4096), 1, 3) == 3
    assert instances_needed(waiting(1), (2048, 4096), 4, 10) == 4
    assert instances_needed((), (2048, 4096), 4, 10) == 0
    # No instance of known size: the minimum step.
    assert instances_needed(waiting(10), None, 2, 10) == 2


def test_groups_of_tasks_take_the_largest_count() -> None:
    mixed = waiting(4, cpu=512, memory=512) + waiting(3, cpu=2048, memory=1024)
    # 4 small ones fit on one instance; 3 large ones need 3 instances.
    assert instances_needed(mixed, (2048, 4096), 1, 100) == 3


def test_static_host_ports_take_an_instance_each() -> None:
    assert instances_needed(waiting(3, cpu=128, memory=128, ports=1), (2048, 4096), 1, 100) == 3


def test_a_task_larger_than_any_instance_adds_nothing() -> None:
    assert instances_needed(waiting(2, cpu=8192), (2048, 4096), 1, 100) == 0


def test_no_more_capacity_is_asked_for_while_an_instance_is_on_its_way() -> None:
    launching = plan(Observed(Settings(), (host("i-1", 2), host("i-2", state="Pending",
                                                                 registered=False)),
                              waiting(6)), NOW)  # fmt: skip
    assert (launching.m, launching.n, launching.reservation) == (2, 2, 100.0)
    unregistered = plan(Observed(Settings(), (host("i-1", registered=False),), waiting(6)), NOW)
    assert (unregistered.m, unregistered.n, unregistered.reservation) == (1, 1, 100.0)


def test_protection_follows_the_tasks_and_leaves_unregistered_instances_alone() -> None:
    hosts = (
        host("i-1", 1),  # busy, unprotected: protect
        host("i-2", protected=True),  # idle, protected: release
        host("i-3", 2, protected=True),  # as it should be
        host("i-4", registered=False, protected=True),  # not registered yet: leave it
    )
    on = plan(Observed(Settings(termination_protection=True), hosts), NOW)
    assert (on.protect, on.unprotect) == (["i-1"], ["i-2"])
    off = plan(Observed(Settings(termination_protection=False), hosts), NOW)
    assert (off.protect, off.unprotect) == ([], [])


def test_draining_on_the_terminate_hook() -> None:
    hosts = (
        host("i-1", 2, state="Terminating:Wait", hook=HOOK),  # drain, keep waiting
        host("i-2", 1, state="Terminating:Wait", hook=HOOK, status="DRAINING"),  # still busy
        host("i-3", state="Terminating:Wait", hook=HOOK, status="DRAINING"),  # done: go on
        host("i-4", 1, state="Terminating:Wait", hook="someone-elses"),
        host("i-5", state="Terminating:Wait", hook=HOOK, registered=False),
    )
    p = plan(Observed(Settings(draining=True), hosts), NOW)
    assert p.drain == ["arn:ci/i-1"]
    assert p.complete == ["i-3", "i-5"]
    assert plan(Observed(Settings(draining=False), hosts), NOW).complete == []


def test_waiting_tasks_time_out() -> None:
    old = waiting(1, since=NOW - PROVISIONING_TIMEOUT)
    fresh = waiting(1, cpu=512, since=NOW - PROVISIONING_TIMEOUT + 1)
    p = plan(Observed(Settings(), (host("i-1", 1),), old + fresh), NOW)
    assert p.expire == [old[0].arn]
    assert p.m == 2  # only the fresh one still asks for capacity


@given(
    st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=8),
    st.integers(0, 12),
    st.integers(1, 5),
)
def test_reservation_direction(hosts: list[tuple[int, bool]], n_waiting: int, step: int) -> None:
    """Waiting tasks never ask for less than what runs, idle instances never for more."""
    group = tuple(host(f"i-{k}", tasks, registered=reg) for k, (tasks, reg) in enumerate(hosts))
    p = plan(Observed(Settings(min_step=step), group, waiting(n_waiting)), NOW)
    if n_waiting:
        assert p.reservation >= 100.0
    else:
        assert p.reservation <= 100.0 or p.n == 0
        assert p.m <= p.n
