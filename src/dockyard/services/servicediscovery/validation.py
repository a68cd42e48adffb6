"""Cloud Map input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any

from dockyard.services.servicediscovery.errors import InvalidInput, TooManyTagsException
from dockyard.services.servicediscovery.model import (
    CNAME,
    INIT_HEALTH,
    IPV4,
    IPV6,
    PORT,
    DnsRecord,
    RecordType,
    RoutingPolicy,
    SdService,
)

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_SERVICE = re.compile(
    r"^(?=.{1,127}$)([a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])"
    r"(\.([a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$"
)
_INSTANCE = re.compile(r"^[0-9a-zA-Z_/:.@-]{1,64}$")
MAX_TAGS = 50
MAX_ATTRIBUTES = 30  # custom attributes of an instance
MAX_SERVICE_ATTRIBUTES = 30
RECORD_SETS = (
    {"A"}, {"AAAA"}, {"A", "AAAA"}, {"SRV"}, {"CNAME"},
    {"A", "SRV"}, {"AAAA", "SRV"}, {"A", "AAAA", "SRV"},
)  # fmt: skip


def dns_name(name: str, field: str = "Name") -> str:
    """A DNS namespace name, in the lower case form without a trailing dot."""
    value = name.strip().rstrip(".").lower()
    labels = value.split(".")
    if not value or len(value) > 253 or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(
            f"{field} must be a domain name: labels of 1 to 63 letters, digits, hyphens or "
            f"underscores separated by dots ({field}: {name!r})"
        )
    return value


def service_name(name: str) -> str:
    if not _SERVICE.match(name):
        raise InvalidInput(
            f"Service name must be DNS labels of letters, digits, hyphens and underscores, "
            f"at most 127 characters (Name: {name!r})"
        )
    return name


def instance_id(value: str) -> str:
    if not _INSTANCE.match(value):
        raise InvalidInput(
            "InstanceId must have 1 to 64 letters, digits or the characters _/:.@- "
            f"(InstanceId: {value!r})"
        )
    return value


def ttl(value: Any, field: str) -> int:
    number = int(value)
    if not 0 <= number <= 2_147_483_647:
        raise InvalidInput(f"{field} must be between 0 and 2147483647 ({field}: {number})")
    return number


def dns_records(
    items: Sequence[dict[str, Any]], field: str = "DnsConfig.DnsRecords"
) -> list[DnsRecord]:
    records = [DnsRecord(str(r["Type"]), ttl(r["TTL"], f"{field}.TTL")) for r in items]
    types = [r.type for r in records]
    for t in types:
        if t not in RecordType.__members__:
            raise InvalidInput(f"Record type {t} is not supported ({field}.Type)")
    if len(set(types)) != len(types):
        raise InvalidInput(f"Each record type can be given only once ({field})")
    if set(types) not in RECORD_SETS:
        raise InvalidInput(
            f"DNS record types {', '.join(sorted(types))} cannot be combined: give A, AAAA, "
            f"A and AAAA, SRV (optionally with A and/or AAAA) or CNAME ({field})"
        )
    return records


def dns_config(
    config: dict[str, Any], health_check: dict[str, Any] | None
) -> tuple[str, list[DnsRecord]]:
    policy = str(config.get("RoutingPolicy") or RoutingPolicy.MULTIVALUE)
    if policy not in RoutingPolicy.__members__:
        raise InvalidInput(f"RoutingPolicy must be MULTIVALUE or WEIGHTED ({policy})")
    records = dns_records(config.get("DnsRecords") or [])
    if not records:
        raise InvalidInput("DnsConfig.DnsRecords must name at least one record")
    if any(r.type == RecordType.CNAME for r in records):
        if policy != RoutingPolicy.WEIGHTED:
            raise InvalidInput("A CNAME record needs the WEIGHTED routing policy (RoutingPolicy)")
        if health_check:
            raise InvalidInput("A CNAME record cannot have a HealthCheckConfig")
    return policy, records


def tags(items: Sequence[dict[str, str]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in items or []:
        out[tag["Key"]] = tag.get("Value", "")
    if len(out) > MAX_TAGS:
        raise TooManyTagsException(f"A resource can have at most {MAX_TAGS} tags")
    return out


def attributes(service: SdService, given: dict[str, str]) -> dict[str, str]:
    """The attributes of a RegisterInstance call, checked against the service's records."""
    types = service.record_types
    ipv4, ipv6, port = given.get(IPV4), given.get(IPV6), given.get(PORT)
    if ipv4 is not None:
        try:
            ipaddress.IPv4Address(ipv4)
        except ValueError as exc:
            raise InvalidInput(f"{IPV4} must be an IPv4 address ({ipv4!r})") from exc
    if ipv6 is not None:
        try:
            ipaddress.IPv6Address(ipv6)
        except ValueError as exc:
            raise InvalidInput(f"{IPV6} must be an IPv6 address ({ipv6!r})") from exc
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise InvalidInput(f"{PORT} must be a port number from 1 to 65535 ({port!r})")
    if RecordType.A in types and RecordType.AAAA not in types and ipv4 is None:
        raise InvalidInput(f"The service has an A record: {IPV4} is required")
    if RecordType.AAAA in types and RecordType.A not in types and ipv6 is None:
        raise InvalidInput(f"The service has an AAAA record: {IPV6} is required")
    if {RecordType.A, RecordType.AAAA} <= types and ipv4 is None and ipv6 is None:
        raise InvalidInput(f"The service has A and AAAA records: {IPV4} or {IPV6} is required")
    if RecordType.SRV in types:
        if port is None:
            raise InvalidInput(f"The service has an SRV record: {PORT} is required")
        if ipv4 is None and ipv6 is None:
            raise InvalidInput(f"The service has an SRV record: {IPV4} or {IPV6} is required")
    if RecordType.CNAME in types and not given.get(CNAME):
        raise InvalidInput(f"The service has a CNAME record: {CNAME} is required")
    init = given.get(INIT_HEALTH)
    if init is not None:
        if service.custom_health is None:
            raise InvalidInput(
                f"{INIT_HEALTH} needs a service with a custom health check "
                "(HealthCheckCustomConfig)"
            )
        if init not in ("HEALTHY", "UNHEALTHY"):
            raise InvalidInput(f"{INIT_HEALTH} must be HEALTHY or UNHEALTHY ({init!r})")
    custom = [k for k in given if not k.startswith("AWS_")]
    if len(custom) > MAX_ATTRIBUTES:
        raise InvalidInput(f"An instance can have at most {MAX_ATTRIBUTES} custom attributes")
    return dict(given)
