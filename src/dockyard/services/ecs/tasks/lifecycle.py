"""How a task's last status moves: the agent's reports and stop requests applied to a task.

The agent reports PENDING (acknowledged: pulling, preparing the network, starting
containers), RUNNING (every essential container started) or STOPPED. The server maps them onto
ECS's lifecycle: PROVISIONING (placed) → PENDING → ACTIVATING → RUNNING → DEACTIVATING →
STOPPING → DEPROVISIONING → STOPPED. ACTIVATING and DEACTIVATING/DEPROVISIONING pass at once
(no load balancer or ENI work to wait for); a task asked to stop is STOPPING until its agent
reports it STOPPED. Status never moves backwards.
"""

from __future__ import annotations

from dockyard.core.taskspec import ContainerStatus, DesiredStatus, TaskStatus
from dockyard.services.ecs.tasks.model import LastStatus, StopCode, Task, TaskContainer


def _rank(status: str) -> int:
    return LastStatus(status).rank


def _update_container(tc: TaskContainer, cs: ContainerStatus) -> bool:
    before = (
        tc.last_status, tc.runtime_id, tc.exit_code, tc.reason, tc.health_status,
        list(tc.network_bindings),
    )  # fmt: skip
    if tc.last_status != "STOPPED":
        tc.last_status = cs.status
    tc.runtime_id = cs.runtime_id or tc.runtime_id
    if cs.exit_code is not None:
        tc.exit_code = cs.exit_code
    if cs.reason:
        tc.reason = cs.reason
    tc.health_status = cs.health_status
    if cs.network_bindings:
        tc.network_bindings = list(cs.network_bindings)
    after = (
        tc.last_status, tc.runtime_id, tc.exit_code, tc.reason, tc.health_status,
        list(tc.network_bindings),
    )  # fmt: skip
    return before != after


def _finish(task: Task, now: float) -> None:
    task.last_status = LastStatus.STOPPED
    task.desired_status = "STOPPED"
    task.stopping_at = task.stopping_at or now
    task.stopped_at = now
    for tc in task.containers:
        tc.last_status = "STOPPED"
    if task.attachment is not None:
        task.attachment.status = "DELETED"


def apply_report(task: Task, report: TaskStatus, now: float) -> tuple[bool, bool]:
    """Apply an agent's report. Returns (changed at all, changed enough to be an event)."""
    if task.is_stopped:
        return False, False
    event = False
    by_name = {tc.name: tc for tc in task.containers}
    for cs in report.containers:
        tc = by_name.get(cs.name)
        if tc is not None and _update_container(tc, cs):
            event = True
    changed = event
    if report.health_status != task.health_status:
        task.health_status = report.health_status
        event = True
    if task.attachment is not None and report.ip_address and not task.attachment.private_ip:
        task.attachment.private_ip = report.ip_address
        changed = True
    for name in ("pull_started_at", "pull_stopped_at"):
        value = getattr(report, name)
        if value is not None and getattr(task, name) is None:
            setattr(task, name, value)
            changed = True

    status = report.status
    if status in ("PENDING", "RUNNING", "STOPPED") and task.connectivity is None:
        task.connectivity = "CONNECTED"
        task.connectivity_at = now
        changed = True
    if status == "PENDING" and task.last_status == LastStatus.PROVISIONING:
        task.last_status = LastStatus.PENDING
        event = True
    elif status == "RUNNING" and _rank(task.last_status) < LastStatus.RUNNING.rank:
        task.last_status = LastStatus.RUNNING
        task.started_at = report.started_at or now
        if task.attachment is not None:
            task.attachment.status = "ATTACHED"
        event = True
    elif status == "STOPPED":
        if task.stop_code is None:
            if report.stop_code in set(StopCode):
                task.stop_code = report.stop_code
            elif task.started_at is not None:
                task.stop_code = StopCode.ESSENTIAL_CONTAINER_EXITED
            else:
                task.stop_code = StopCode.TASK_FAILED_TO_START
        if task.stopped_reason is None:
            task.stopped_reason = report.stopped_reason or (
                "Essential container in task exited"
                if task.stop_code == StopCode.ESSENTIAL_CONTAINER_EXITED
                else "Task failed to start"
            )
        task.execution_stopped_at = report.execution_stopped_at or now
        _finish(task, now)
        event = True
    if event:
        task.version += 1
    return changed or event, event


def request_stop(task: Task, stop_code: str, reason: str | None, now: float) -> bool:
    """Ask for the task to stop. A task its agent has not been handed yet stops at once;
    otherwise it is STOPPING until the agent reports it STOPPED. True when anything changed."""
    if task.is_stopped:
        return False
    if task.desired_status == DesiredStatus.STOPPED and task.stop_code is not None:
        return False
    task.desired_status = "STOPPED"
    task.stop_code = task.stop_code or stop_code
    if task.stopped_reason is None:
        task.stopped_reason = reason
    if not task.delivered:
        _finish(task, now)
    elif _rank(task.last_status) < LastStatus.STOPPING.rank:
        task.last_status = LastStatus.STOPPING
        task.stopping_at = now
    task.version += 1
    return True


def host_lost(task: Task, stop_code: str, reason: str, now: float) -> bool:
    """The task's host stopped answering for good: the task is STOPPED at once, since no agent
    will report it. A returning agent finds it no longer assigned and stops what still runs."""
    if task.is_stopped:
        return False
    if task.stop_code is None:  # a task already asked to stop keeps why it was
        task.stop_code = stop_code
        task.stopped_reason = reason
    task.desired_status = "STOPPED"
    task.execution_stopped_at = now
    _finish(task, now)
    task.version += 1
    return True
