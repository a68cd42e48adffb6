"""AWS Cloud Map's resources: namespaces, services, instances and operations."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class NamespaceType(enum.StrEnum):
    DNS_PRIVATE = "DNS_PRIVATE"
    DNS_PUBLIC = "DNS_PUBLIC"
    HTTP = "HTTP"


class ServiceType(enum.StrEnum):
    HTTP = "HTTP"  # discoverable through DiscoverInstances only
    DNS_HTTP = "DNS_HTTP"  # through DNS and DiscoverInstances
    DNS = "DNS"


class RoutingPolicy(enum.StrEnum):
    MULTIVALUE = "MULTIVALUE"
    WEIGHTED = "WEIGHTED"


class RecordType(enum.StrEnum):
    A = "A"
    AAAA = "AAAA"
    SRV = "SRV"
    CNAME = "CNAME"


class HealthStatus(enum.StrEnum):
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"
    UNKNOWN = "UNKNOWN"


class OperationType(enum.StrEnum):
    CREATE_NAMESPACE = "CREATE_NAMESPACE"
    DELETE_NAMESPACE = "DELETE_NAMESPACE"
    UPDATE_NAMESPACE = "UPDATE_NAMESPACE"
    UPDATE_SERVICE = "UPDATE_SERVICE"
    REGISTER_INSTANCE = "REGISTER_INSTANCE"
    DEREGISTER_INSTANCE = "DEREGISTER_INSTANCE"


class OperationStatus(enum.StrEnum):
    SUBMITTED = "SUBMITTED"
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


# Attributes with a meaning to Cloud Map.
IPV4 = "AWS_INSTANCE_IPV4"
IPV6 = "AWS_INSTANCE_IPV6"
PORT = "AWS_INSTANCE_PORT"
CNAME = "AWS_INSTANCE_CNAME"
INIT_HEALTH = "AWS_INIT_HEALTH_STATUS"
ALIAS = "AWS_ALIAS_DNS_NAME"
EC2_INSTANCE_ID = "AWS_EC2_INSTANCE_ID"


@dataclass(slots=True)
class Namespace:
    id: str
    arn: str
    name: str
    type: str
    account_id: str
    region: str
    created: float
    description: str | None = None
    creator_request_id: str | None = None
    vpc: str | None = None
    hosted_zone_id: str | None = None
    soa_ttl: int | None = None  # DNS namespaces
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def is_dns(self) -> bool:
        return self.type != NamespaceType.HTTP

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Namespace:
        return cls(**data)


@dataclass(slots=True)
class DnsRecord:
    type: str
    ttl: int


@dataclass(slots=True)
class SdService:
    id: str
    arn: str
    name: str
    namespace_id: str
    account_id: str
    region: str
    created: float
    type: str
    description: str | None = None
    creator_request_id: str | None = None
    routing_policy: str | None = None  # DNS services
    dns_records: list[DnsRecord] = field(default_factory=list)
    health_check: dict[str, Any] | None = None  # HealthCheckConfig (Route 53 checks)
    custom_health: dict[str, Any] | None = None  # HealthCheckCustomConfig
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    revision: int = 0  # DiscoverInstancesRevision: moves with every instance change

    def ttl(self, record_type: str) -> int | None:
        for r in self.dns_records:
            if r.type == record_type:
                return r.ttl
        return None

    @property
    def record_types(self) -> frozenset[str]:
        return frozenset(r.type for r in self.dns_records)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SdService:
        data = dict(data)
        data["dns_records"] = [DnsRecord(**r) for r in data.get("dns_records") or []]
        return cls(**data)


@dataclass(slots=True)
class Instance:
    id: str
    service_id: str
    attributes: dict[str, str]
    created: float
    creator_request_id: str | None = None
    # HEALTHY/UNHEALTHY under a custom health check; None without one.
    health: str | None = None
    # Who registered it for whom (an ECS service ARN), when it was not a direct call.
    owner: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Instance:
        return cls(**data)


@dataclass(slots=True)
class Operation:
    id: str
    type: str
    status: str
    account_id: str
    region: str
    created: float
    updated: float
    targets: dict[str, str] = field(default_factory=dict)  # NAMESPACE/SERVICE/INSTANCE -> id
    error_code: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Operation:
        return cls(**data)
