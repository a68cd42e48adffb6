"""Temporary credentials of an IAM role, issued on a task's behalf.

A task with a `taskRoleArn` gets that role's credentials from its agent's credentials
endpoint; the agent's own calls for the task (secrets, logs, image pulls) use the
`executionRoleArn`'s. ECS asks STS through this port, as the service principal
`ecs-tasks.amazonaws.com` that the role's trust policy must allow, so ECS never imports
IAM or STS; the composition root hands it the implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"


class RoleUnavailable(Exception):
    """The role cannot be assumed: no such role, or its trust policy does not allow the
    service. The message says which, in the words an ECS agent would report."""


@dataclass(frozen=True, slots=True)
class TemporaryCredentials:
    access_key_id: str  # ASIA...
    secret_access_key: str
    session_token: str
    expiration: float  # epoch seconds (core.clock)
    role_arn: str  # the role's IAM ARN, arn:aws:iam::<account>:role/<path><name>

    def to_dict(self) -> dict[str, object]:
        return {
            "accessKeyId": self.access_key_id,
            "secretAccessKey": self.secret_access_key,
            "sessionToken": self.session_token,
            "expiration": self.expiration,
            "roleArn": self.role_arn,
        }

    @classmethod
    def from_dict(cls, body: dict[str, object]) -> TemporaryCredentials:
        return cls(
            access_key_id=str(body["accessKeyId"]),
            secret_access_key=str(body["secretAccessKey"]),
            session_token=str(body["sessionToken"]),
            expiration=float(body["expiration"]),  # type: ignore[arg-type]
            role_arn=str(body["roleArn"]),
        )


class RoleCredentialIssuer(Protocol):
    def issue(
        self,
        account_id: str,
        role_arn: str,
        session_name: str,
        *,
        service: str = ECS_TASKS_PRINCIPAL,
    ) -> TemporaryCredentials:
        """Credentials for `role_arn` (in `account_id`) assumed by `service`, valid for the
        role's session duration (default an hour); they sign requests to this server as
        `arn:aws:sts::<account>:assumed-role/<role>/<session_name>`. Raises
        `RoleUnavailable` when the role does not exist or does not trust `service`."""
        ...


class RolePermissions(Protocol):
    def denial(
        self, account_id: str, role_arn: str, session_name: str, action: str, resource: str
    ) -> str | None:
        """None when a session of `role_arn` named `session_name` may perform `action` on
        `resource` (or when the server enforces no policies); else AWS's access-denied
        message, naming the session, the action and the resource."""
        ...
