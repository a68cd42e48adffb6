"""What a role's session may do, answered from IAM's policies with the front door's own
evaluator: the `RolePermissions` port through which the server acts as a task's execution
role (reading its secrets). Lives beside server.py because the secrets wiring may not import
IAM's internals and ECS may import neither."""

from __future__ import annotations

from dockyard.api.access import Access
from dockyard.api.authorize import Authorizer, base_context, denied
from dockyard.core.clock import Clock
from dockyard.core.principals import (
    PolicySource,
    Principal,
    PrincipalKind,
    RoleDirectory,
)


class RoleAccess:
    """With `enforced` False (no `--auth-file`) everything is allowed, as for requests."""

    def __init__(
        self, roles: RoleDirectory, policies: PolicySource, clock: Clock, *, enforced: bool
    ) -> None:
        self.roles = roles
        self.authorizer = Authorizer(policies)
        self.clock = clock
        self.enforced = enforced

    def denial(
        self, account_id: str, role_arn: str, session_name: str, action: str, resource: str
    ) -> str | None:
        if not self.enforced:
            return None
        role = self.roles.role(account_id, role_arn)
        name = role.name if role is not None else role_arn.rsplit("/", 1)[-1]
        principal = Principal(
            account_id=account_id,
            kind=PrincipalKind.ASSUMED_ROLE,
            arn=f"arn:aws:sts::{account_id}:assumed-role/{name}/{session_name}",
            user_id=f"{role.role_id if role else ''}:{session_name}",
            name=name,
            role_arn=role.arn if role is not None else role_arn,
            session_name=session_name,
        )
        access = Access(action, resource)
        permissions = self.authorizer.permissions(principal)
        region = resource.split(":")[3] if resource.count(":") >= 4 else ""
        context = base_context(
            principal, permissions, source_ip=None, secure=True, region=region,
            now=self.clock.now(),
        )  # fmt: skip
        decision = self.authorizer.decide(principal, access, context, permissions)
        if decision is None or decision.allowed:
            return None
        return denied(principal, access, decision, "json").message
