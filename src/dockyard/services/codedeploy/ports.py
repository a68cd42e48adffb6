"""What CodeDeploy asks of ECS and the load balancers, without importing them. The server
wires an implementation (controllers.codedeploy_ports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class EcsServiceView:
    arn: str
    status: str  # ACTIVE | DRAINING | INACTIVE
    deployment_controller: str  # ECS | CODE_DEPLOY | EXTERNAL
    task_definition_arn: str | None
    target_group_arns: tuple[str, ...]  # of its load balancers


class BlueGreenTargets(Protocol):
    def ecs_service(
        self, account_id: str, region: str, cluster: str, service: str
    ) -> EcsServiceView | None:
        """The ECS service `service` of cluster `cluster` (names), None when there is none."""
        ...

    def target_group_arn(self, account_id: str, region: str, name: str) -> str | None: ...

    def listener_exists(self, account_id: str, region: str, listener_arn: str) -> bool: ...

    def task_definition_arn(self, account_id: str, region: str, ref: str) -> str | None:
        """The ARN of an ACTIVE task definition (family:revision or ARN), else None."""
        ...
