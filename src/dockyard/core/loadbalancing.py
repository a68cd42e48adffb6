"""How ECS services use load balancer target groups, without importing the ELB service.

The ELBv2 service implements `TargetGroups`; the server's composition root hands it to the
ECS service controller. A target is identified as ELB identifies it (an instance id or an IP
address, and a port); `address` is where the data plane connects (the host's address for an
instance target, the task's own address for an ip target).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Target:
    target_id: str  # instance id (instance targets) or IP address (ip targets)
    port: int
    address: str  # where traffic really goes


class TargetGroups(Protocol):
    def target_type(self, account_id: str, region: str, target_group_arn: str) -> str | None:
        """`instance`, `ip`, ... or None when the target group does not exist."""
        ...

    def register(self, account_id: str, region: str, target_group_arn: str, target: Target) -> None:
        """Add a target (state `initial` until its health checks pass)."""
        ...

    def deregister(
        self, account_id: str, region: str, target_group_arn: str, target: Target
    ) -> None:
        """Start draining: no new requests; removed after the deregistration delay."""
        ...

    def health(self, account_id: str, region: str, target_group_arn: str, target: Target) -> str:
        """initial | healthy | unhealthy | unused | draining | unavailable; `unused` when the
        target is not registered (or fully drained)."""
        ...
