"""What a remote agent may do: every call is bound to the container instance whose credential
it carries (`Authorization: Bearer <credential>` with `X-Dockyard-Instance: <ARN>`).

With open auth (no `--auth-file`), calls without a credential still pass for instances that
never received one (hosts registered before credentials existed, or through
RegisterContainerInstance), with a warning; an instance that holds a credential is only ever
reached with it.
"""

from __future__ import annotations

import logging

from dockyard.api.auth import AuthError
from dockyard.api.http import HttpRequest
from dockyard.services.ecs.instances.agent_identity import AgentIdentities
from dockyard.services.ecs.instances.agent_link import UnknownInstanceError
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tasks.model import Task

log = logging.getLogger(__name__)

INSTANCE_HEADER = "x-dockyard-instance"


def denied(message: str) -> AuthError:
    return AuthError(message, code="AccessDeniedException")


def presented(req: HttpRequest) -> tuple[str, str] | None:
    """The (instance ARN, credential) a request carries, or None."""
    header = req.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    arn = req.headers.get(INSTANCE_HEADER, "")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    if not arn:
        raise denied(f"an agent credential goes with the {INSTANCE_HEADER} header")
    return arn, secret.strip()


def arn_account(arn: str) -> tuple[str, str]:
    """(account, region) of an ARN."""
    parts = arn.split(":")
    return (parts[4], parts[3]) if len(parts) > 5 else ("", "")


def _logs_to(task: Task, account_id: str, region: str, group: str) -> bool:
    """Whether an awslogs configuration of `task` names that log group."""
    if task.spec.account_id != account_id or task.spec.region != region:
        return False
    return any(
        c.log is not None
        and c.log.driver == "awslogs"
        and c.log.options.get("awslogs-group") == group
        for c in task.spec.containers
    )


class AgentGuard:
    def __init__(self, ecs: Ecs, identities: AgentIdentities, *, open_auth: bool) -> None:
        self.ecs = ecs
        self.identities = identities
        self.open_auth = open_auth
        self._warned: set[str] = set()

    def warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)

    def caller(self, req: HttpRequest, *, lenient: bool = False) -> str | None:
        """The instance ARN whose credential the request carries; None for an anonymous call
        (only with open auth). A credential that does not hold is refused, or (`lenient`, when
        registering) ignored, so an agent whose server forgot it can join again."""
        found = presented(req)
        if found is None:
            if not self.open_auth and not lenient:
                raise AuthError(
                    "agent calls need the agent's credential: start the agent with a join "
                    "token (dockyard join-token) so it registers and receives one",
                    code="MissingAuthenticationToken",
                )
            return None
        arn, secret = found
        if self.identities.check_credential(arn, secret):
            return arn
        if lenient:
            return None
        if arn not in self.ecs.instances.by_arn:  # the server forgot it (a reset): join again
            raise UnknownInstanceError(f"Unknown container instance {arn}; register first.")
        raise AuthError(
            f"the agent credential is not valid for container instance {arn}",
            code="UnrecognizedClientException",
        )

    def own(self, caller: str | None, instance_arn: str) -> None:
        """Refuse a call about `instance_arn` from anyone but that instance's agent."""
        if caller is not None:
            if caller != instance_arn:
                raise denied(
                    f"the agent of {caller} may not act for container instance {instance_arn}"
                )
            return
        if self.identities.has_credential(instance_arn):
            raise denied(
                f"container instance {instance_arn} has an agent credential: calls for it "
                "must carry it"
            )
        self.warn_once(
            instance_arn,
            "an agent calls for %s without a credential (the server has no --auth-file)",
            instance_arn,
        )

    def may_log(self, caller: str | None, account_id: str, region: str, group: str) -> None:
        """An agent writes logs only to its own account, to a log group that the awslogs
        configuration of one of its tasks names."""
        if caller is None:
            self.warn_once("logs", "an agent ships logs without a credential (open auth)")
            return
        own_account, _ = arn_account(caller)
        if account_id != own_account:
            raise denied(f"the agent of {caller} may not write logs to account {account_id}")
        # Its running tasks first; a stopped task's last lines may still be on their way.
        if any(_logs_to(t, account_id, region, group) for t in self.ecs.tasks.assigned(caller)):
            return
        if any(
            t.host_arn == caller and _logs_to(t, account_id, region, group)
            for t in self.ecs.tasks.by_arn.values()
        ):
            return
        raise denied(
            f"no task of container instance {caller} sends awslogs to log group {group} in {region}"
        )
