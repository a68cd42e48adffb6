"""Service discovery, between the parts that must not import each other.

`ServiceRegistries` is what ECS needs of AWS Cloud Map (the `servicediscovery` service
implements it; the composition root hands it to ECS and to the controller that registers
tasks). `DnsDirectory` is what the DNS server asks of it: the records of one name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Registry:
    """A Cloud Map service as ECS sees it."""

    arn: str
    namespace_arn: str
    record_types: frozenset[str]  # A, AAAA, SRV, CNAME (empty: an HTTP-only service)
    custom_health: bool  # HealthCheckCustomConfig


class ServiceRegistries(Protocol):
    def registry(self, account_id: str, region: str, registry_arn: str) -> Registry | None:
        """The Cloud Map service, or None when it does not exist."""
        ...

    def namespace_arn(self, account_id: str, region: str, ref: str) -> str | None:
        """The ARN of a namespace given by ARN, id or name; None when there is none."""
        ...

    def register(
        self, registry_arn: str, instance_id: str, attributes: dict[str, str], owner: str
    ) -> None:
        """Create or update an instance (RegisterInstance) on behalf of `owner`."""
        ...

    def deregister(self, registry_arn: str, instance_id: str) -> None:
        """Remove an instance (DeregisterInstance); nothing when it is not there."""
        ...

    def owned(self, owner: str) -> dict[tuple[str, str], dict[str, str]]:
        """Every instance registered on behalf of `owner`: (registry ARN, instance id) ->
        its attributes."""
        ...

    def owners(self) -> set[str]:
        """Everyone with instances registered on their behalf."""
        ...


@dataclass(frozen=True, slots=True)
class Srv:
    priority: int
    weight: int
    port: int
    target: str  # a fully qualified name, without the trailing dot


@dataclass(frozen=True, slots=True)
class NameRecords:
    """What an authoritative server answers for one name of one of its zones."""

    zone: str  # the zone (namespace) name
    soa_ttl: int
    exists: bool  # False: NXDOMAIN
    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()
    srv: tuple[Srv, ...] = ()
    cname: str | None = None
    ttl: dict[str, int] | None = None  # per record type


class DnsDirectory(Protocol):
    def lookup(self, name: str) -> NameRecords | None:
        """The records of `name` (lower case, no trailing dot); None when no zone of ours
        contains it."""
        ...
