"""A task's IAM role credentials, as the agent the task runs on asks for them.

ECS assumes the task's `taskRoleArn` through the `RoleCredentialIssuer` port as the service
principal `ecs-tasks.amazonaws.com`, with the task id as the role session name (as ECS
does), so calls made with them are `assumed-role/<role>/<task id>`. A role that cannot be
assumed (no such role, a trust policy that does not allow ecs-tasks) stops the task before
any container starts, with the reason ECS gives.
"""

from __future__ import annotations

import logging

from dockyard.core.rolecredentials import (
    ECS_TASKS_PRINCIPAL,
    RoleCredentialIssuer,
    RolePermissions,
    RoleUnavailable,
    TemporaryCredentials,
)
from dockyard.core.taskspec import TaskSpec
from dockyard.services.ecs.errors import ClientException
from dockyard.store.base import is_unavailable

log = logging.getLogger(__name__)


class NoTaskRole(ClientException):
    """The task has no role credentials to give (no taskRoleArn, or not this agent's)."""


class RoleNotAssumable(ClientException):
    """The task's role can no longer be assumed (deleted, or its trust policy changed)."""


def unable_to_assume(role_arn: str) -> str:
    """The stoppedReason (and service event) of a task whose role ECS cannot assume."""
    return (
        f"ECS was unable to assume the role '{role_arn}' that was provided for this task. "
        "Please verify that the role being passed has the proper trust relationship and "
        "permissions and that your IAM user has permissions to pass this role."
    )


def issue(spec: TaskSpec, issuer: RoleCredentialIssuer | None) -> TemporaryCredentials:
    """The credentials of `spec`'s task role. Raises `RoleUnavailable` (with the reason
    the task stops with) when they cannot be had, `NoTaskRole` when it has none."""
    role_arn = spec.task_role_arn
    if not role_arn:
        raise NoTaskRole(f"task {spec.task_arn} has no task role")
    if issuer is None:
        raise RoleUnavailable(unable_to_assume(role_arn))
    return _assume(issuer, spec, role_arn)


def _assume(issuer: RoleCredentialIssuer, spec: TaskSpec, role_arn: str) -> TemporaryCredentials:
    try:
        return issuer.issue(spec.account_id, role_arn, spec.task_id, service=ECS_TASKS_PRINCIPAL)
    except RoleUnavailable as exc:
        raise RoleUnavailable(unable_to_assume(role_arn)) from exc
    except Exception as exc:  # a role ARN the issuer cannot even read: never a stuck agent
        if is_unavailable(exc):
            raise
        log.warning("cannot assume %s for task %s: %r", role_arn, spec.task_arn, exc)
        raise RoleUnavailable(unable_to_assume(role_arn)) from exc


def check(spec: TaskSpec, issuer: RoleCredentialIssuer | None) -> str | None:
    """None when `spec`'s execution role and task role (those it has) can be assumed, else
    the stoppedReason. The execution role is checked only where roles are issued at all."""
    if spec.execution_role_arn and issuer is not None:
        try:
            _assume(issuer, spec, spec.execution_role_arn)
        except RoleUnavailable as exc:
            return str(exc)
    if not spec.task_role_arn:
        return None
    try:
        issue(spec, issuer)
    except RoleUnavailable as exc:
        return str(exc)
    return None


LOGGER_PREFIX = (
    "ResourceInitializationError: failed to validate logger args: create stream has been "
    "retried 1 times: failed to create Cloudwatch log stream: "
)


def log_stream_arn(spec: TaskSpec, options: dict[str, str], container_name: str) -> str:
    """The stream an `awslogs` container writes to, as an ARN (`*` for the stream named
    after the container's runtime id, not known before it starts)."""
    region = options.get("awslogs-region") or spec.region
    prefix = options.get("awslogs-stream-prefix")
    stream = f"{prefix}/{container_name}/{spec.task_id}" if prefix else "*"
    group = options.get("awslogs-group", "")
    return f"arn:aws:logs:{region}:{spec.account_id}:log-group:{group}:log-stream:{stream}"


def check_logs(spec: TaskSpec, permissions: RolePermissions | None) -> str | None:
    """None when the execution role (if any) may create each `awslogs` container's log
    stream, else the stoppedReason ECS gives when it validates the logger."""
    if not spec.execution_role_arn or permissions is None:
        return None
    for container in spec.containers:
        if container.log is None or container.log.driver != "awslogs":
            continue
        resource = log_stream_arn(spec, container.log.options, container.name)
        message = permissions.denial(
            spec.account_id, spec.execution_role_arn, spec.task_id, "logs:CreateLogStream", resource
        )
        if message is not None:
            return f"{LOGGER_PREFIX}AccessDeniedException: {message}"
    return None
