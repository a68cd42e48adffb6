"""The networking records of one account and region, as stored (one store kind each).

Records are replaced, never changed in place: a domain call copies a record, changes the copy,
commits it and only then puts it in memory, so a refused commit changes nothing.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from dockyard.core.scope import Scope

RESERVED = 5  # addresses of each subnet: the first four and the last


class Direction(StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"


class State(StrEnum):
    """The `State` of VPCs, subnets, gateway attachments and zones."""

    PENDING = "pending"
    AVAILABLE = "available"


class AssociationState(StrEnum):
    ASSOCIATED = "associated"


class RouteOrigin(StrEnum):
    CREATE_ROUTE_TABLE = "CreateRouteTable"  # the local route
    CREATE_ROUTE = "CreateRoute"


class RouteState(StrEnum):
    ACTIVE = "active"
    BLACKHOLE = "blackhole"  # its gateway is detached or gone


class RuleAction(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(slots=True)
class Resource:
    KIND: ClassVar[str] = ""
    id: str
    account_id: str
    region: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def scope(self) -> Scope:
        return Scope(self.account_id, self.region)

    @property
    def arn(self) -> str:
        """`arn:aws:ec2:<region>:<account>:vpc/vpc-...` (the id's resource type)."""
        kind = self.KIND.removeprefix("ec2.")
        return f"arn:aws:ec2:{self.region}:{self.account_id}:{kind}/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Resource:
        return cls(**body)


@dataclass(slots=True)
class Vpc(Resource):
    KIND: ClassVar[str] = "ec2.vpc"
    cidr: str = ""
    is_default: bool = False
    dns_support: bool = True
    dns_hostnames: bool = False
    tenancy: str = "default"

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Vpc:
        return cls(**body)


@dataclass(slots=True)
class Subnet(Resource):
    KIND: ClassVar[str] = "ec2.subnet"
    vpc_id: str = ""
    cidr: str = ""
    zone: str = ""
    zone_id: str = ""
    default_for_az: bool = False
    map_public_ip: bool = False
    # Addresses handed out (to network interfaces): each lowers AvailableIpAddressCount.
    used: list[str] = field(default_factory=list)

    @property
    def available(self) -> int:
        """AvailableIpAddressCount: the size less the five reserved and those in use."""
        return ipaddress.IPv4Network(self.cidr).num_addresses - RESERVED - len(self.used)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Subnet:
        return cls(**body)


@dataclass(slots=True)
class Rule:
    id: str
    direction: Direction
    protocol: str  # "-1", "tcp", "udp", "icmp", "icmpv6" or a protocol number
    from_port: int | None = None
    to_port: int | None = None
    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    group_id: str | None = None  # a referenced security group
    prefix_list_id: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def peer(self) -> str:
        return self.cidr_ipv4 or self.cidr_ipv6 or self.group_id or self.prefix_list_id or ""

    @property
    def identity(self) -> tuple[str, str, int | None, int | None, str]:
        """What makes two rules the same rule (descriptions and tags aside)."""
        return (self.direction, self.protocol, self.from_port, self.to_port, self.peer)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Rule:
        return cls(**{**body, "direction": Direction(body["direction"])})


@dataclass(slots=True)
class SecurityGroup(Resource):
    KIND: ClassVar[str] = "ec2.security-group"
    name: str = ""
    description: str = ""
    vpc_id: str = ""
    rules: list[Rule] = field(default_factory=list)

    @property
    def is_default(self) -> bool:
        return self.name == "default"

    def rules_of(self, direction: Direction) -> list[Rule]:
        return [r for r in self.rules if r.direction == direction]

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> SecurityGroup:
        rules = [Rule.from_dict(r) for r in body.get("rules", [])]
        return cls(**{**body, "rules": rules})


@dataclass(slots=True)
class Route:
    destination: str
    gateway_id: str | None = None  # "local", an internet gateway
    origin: RouteOrigin = RouteOrigin.CREATE_ROUTE


@dataclass(slots=True)
class Association:
    id: str
    subnet_id: str | None = None  # None: the main association
    gateway_id: str | None = None


@dataclass(slots=True)
class RouteTable(Resource):
    KIND: ClassVar[str] = "ec2.route-table"
    vpc_id: str = ""
    main: bool = False
    routes: list[Route] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> RouteTable:
        return cls(
            **{
                **body,
                "routes": [
                    Route(**{**r, "origin": RouteOrigin(r["origin"])})
                    for r in body.get("routes", [])
                ],
                "associations": [Association(**a) for a in body.get("associations", [])],
            }
        )


@dataclass(slots=True)
class InternetGateway(Resource):
    KIND: ClassVar[str] = "ec2.internet-gateway"
    vpc_id: str | None = None  # attached to

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> InternetGateway:
        return cls(**body)


@dataclass(slots=True)
class AclEntry:
    number: int  # 32767: the last, catch-all entry ("*")
    egress: bool
    allow: bool
    cidr: str = "0.0.0.0/0"
    protocol: str = "-1"


@dataclass(slots=True)
class NetworkAcl(Resource):
    """A VPC's default network ACL: every subnet of the VPC is associated with it."""

    KIND: ClassVar[str] = "ec2.network-acl"
    vpc_id: str = ""
    is_default: bool = True
    entries: list[AclEntry] = field(default_factory=list)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> NetworkAcl:
        return cls(**{**body, "entries": [AclEntry(**e) for e in body.get("entries", [])]})


AnyRecord = Vpc | Subnet | SecurityGroup | RouteTable | InternetGateway | NetworkAcl
RECORDS: tuple[type[AnyRecord], ...] = (
    Vpc,
    Subnet,
    SecurityGroup,
    RouteTable,
    InternetGateway,
    NetworkAcl,
)
