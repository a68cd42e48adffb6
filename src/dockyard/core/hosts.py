"""Micro-hosts: what the EC2 service asks of the machine when an instance starts, stops or
goes, and what the instance metadata service asks of EC2, without either importing the other.

`services/ec2` decides (records, states, addresses); `dockyard.hosts` does (a network
namespace with the instance's address on its VPC's bridge, its own process tree running the
image's boot program, netfilter rules for its security groups); `dataplane/imds.py` answers
169.254.169.254 from `InstanceMetadata`. The composition root wires them together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class BootKind(StrEnum):
    ECS_AGENT = "ecs-agent"  # the built-in ECS-optimized image: `dockyard agent`
    USER_DATA = "user-data"  # a plain image: its user data, run as a script


@dataclass(frozen=True, slots=True)
class HostAddress:
    vpc_id: str
    vpc_cidr: str  # the VPC's primary CIDR: one bridge per VPC
    subnet_cidr: str
    private_ip: str
    mac: str


@dataclass(frozen=True, slots=True)
class HostSpec:
    instance_id: str
    image_id: str
    boot: BootKind
    address: HostAddress
    hostname: str  # ip-10-0-1-5.ec2.internal
    user_data: bytes = b""
    # For ECS_AGENT: the cluster from the user data's `ECS_CLUSTER=` (default `default`).
    cluster: str = "default"
    # Handed to the boot program in its environment only, never written to a file (an agent
    # join token, for example).
    secret_env: Mapping[str, str] = field(default_factory=dict)
    # The ingress rules it boots with (its security groups, resolved), in place before its
    # boot program starts; None: those it had (none for a new host: all ingress but replies
    # dropped).
    rules: tuple[IngressRule, ...] | None = None


class HostError(RuntimeError):
    """A host cannot be booted or changed as asked; the message says why (EC2 reports it as
    the instance's state reason)."""


class HostRuntime(Protocol):
    async def boot(self, spec: HostSpec) -> None:
        """Create the host if it does not exist yet (its namespace, address, root directory)
        and start its boot program. Idempotent: a running host is left as it is."""
        ...

    async def halt(self, instance_id: str, force: bool = False) -> None:
        """Stop every process of the host (SIGTERM, SIGKILL after a grace period; SIGKILL at
        once when `force`). Its network and files stay, so `boot` starts it again."""
        ...

    async def destroy(self, instance_id: str) -> None:
        """Halt the host and remove it: namespace, address, files."""
        ...

    async def running(self, instance_id: str) -> bool:
        """Whether the host's boot program (its process tree) is alive."""
        ...

    async def hosts(self) -> list[str]:
        """The instance ids of every host this machine has (after a restart too)."""
        ...

    async def firewall(self, instance_id: str, rules: Sequence[IngressRule]) -> None:
        """Replace the host's ingress rules (its security groups, sources resolved to
        addresses): only what a rule allows reaches it; replies to its own connections do."""
        ...


@dataclass(frozen=True, slots=True)
class IngressRule:
    protocol: str  # "tcp" | "udp" | "icmp" | "-1" (all)
    from_port: int  # -1 with protocol "-1"
    to_port: int
    cidrs: tuple[str, ...] = ()  # IPv4 CIDRs, and addresses of the source groups' members /32


class HttpTokens(StrEnum):
    OPTIONAL = "optional"  # IMDSv1 and v2
    REQUIRED = "required"  # IMDSv2 only: a request without a token gets 401


@dataclass(frozen=True, slots=True)
class InstanceView:
    """What the metadata service tells an instance about itself."""

    instance_id: str
    account_id: str
    region: str
    availability_zone: str
    image_id: str
    instance_type: str
    private_ip: str
    mac: str
    hostname: str
    vpc_id: str
    subnet_id: str
    vpc_cidr: str
    subnet_cidr: str
    security_groups: tuple[str, ...]  # names
    security_group_ids: tuple[str, ...]
    launch_time: float  # epoch seconds
    user_data: bytes | None
    http_tokens: HttpTokens = HttpTokens.OPTIONAL
    endpoint_enabled: bool = True
    hop_limit: int = 1
    # Instance tags, when the metadata options allow tags in metadata (None: not allowed).
    tags: Mapping[str, str] | None = None
    role_name: str | None = None  # the instance profile's role
    instance_profile_arn: str | None = None


class InstanceMetadata(Protocol):
    def by_address(self, private_ip: str) -> InstanceView | None:
        """The running instance with this private address, or None."""
        ...

    async def role_credentials(self, instance_id: str) -> Mapping[str, str] | None:
        """Temporary credentials of the instance profile's role, as IMDS shows them
        (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`), or None without a role."""
        ...

    def identity_signature(self, document: bytes) -> str:
        """A signature of an identity document that this server verifies later
        (`RegisterContainerInstance` with `instanceIdentityDocumentSignature`)."""
        ...


class IdentityVerifier(Protocol):
    def verify(self, document: bytes, signature: str) -> bool:
        """Whether `signature` is this server's signature of the identity document `document`
        (as `InstanceMetadata.identity_signature` made it) for an instance that exists."""
        ...
