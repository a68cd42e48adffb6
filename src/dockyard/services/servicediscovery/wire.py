"""Cloud Map resources as the API's output shapes, and the list helpers they share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dockyard.api.provider import Params, Result
from dockyard.core.paging import InvalidToken, page
from dockyard.services.servicediscovery.errors import InvalidInput
from dockyard.services.servicediscovery.model import Namespace, Operation, SdService

T = TypeVar("T")


def paged(items: Sequence[T], key: Callable[[T], str], p: Params, out_key: str,
          wire: Callable[[T], Any], default_max: int = 100) -> Result:  # fmt: skip
    try:
        chunk, token = page(items, key, p.get("NextToken"), p.get("MaxResults"), default_max)
    except InvalidToken as exc:
        raise InvalidInput("NextToken is not valid") from exc
    out: Result = {out_key: [wire(i) for i in chunk]}
    if token:
        out["NextToken"] = token
    return out


def tags_to_wire(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def namespace_to_wire(ns: Namespace, service_count: int, summary: bool = False) -> Result:
    props: Result = {}
    if ns.is_dns:
        props["DnsProperties"] = {
            "HostedZoneId": ns.hosted_zone_id,
            "SOA": {"TTL": ns.soa_ttl},
        }
    props["HttpProperties"] = {"HttpName": ns.name}
    out: Result = {
        "Id": ns.id,
        "Arn": ns.arn,
        "ResourceOwner": ns.account_id,
        "Name": ns.name,
        "Type": ns.type,
        "ServiceCount": service_count,
        "Properties": props,
        "CreateDate": ns.created,
    }
    if ns.description is not None:
        out["Description"] = ns.description
    if ns.creator_request_id and not summary:
        out["CreatorRequestId"] = ns.creator_request_id
    return out


def service_to_wire(svc: SdService, instance_count: int, summary: bool = False) -> Result:
    out: Result = {
        "Id": svc.id,
        "Arn": svc.arn,
        "ResourceOwner": svc.account_id,
        "CreatedByAccount": svc.account_id,
        "Name": svc.name,
        "Type": svc.type,
        "InstanceCount": instance_count,
        "CreateDate": svc.created,
    }
    if not summary:
        out["NamespaceId"] = svc.namespace_id
    if svc.description is not None:
        out["Description"] = svc.description
    if svc.dns_records:
        dns: Result = {
            "RoutingPolicy": svc.routing_policy,
            "DnsRecords": [{"Type": r.type, "TTL": r.ttl} for r in svc.dns_records],
        }
        if not summary:
            dns["NamespaceId"] = svc.namespace_id
        out["DnsConfig"] = dns
    if svc.health_check is not None:
        out["HealthCheckConfig"] = svc.health_check
    if svc.custom_health is not None:
        out["HealthCheckCustomConfig"] = svc.custom_health
    if svc.creator_request_id and not summary:
        out["CreatorRequestId"] = svc.creator_request_id
    return out


def operation_to_wire(op: Operation) -> Result:
    out: Result = {
        "Id": op.id,
        "OwnerAccount": op.account_id,
        "Type": op.type,
        "Status": op.status,
        "CreateDate": op.created,
        "UpdateDate": op.updated,
        "Targets": dict(op.targets),
    }
    if op.error_code:
        out["ErrorCode"] = op.error_code
        out["ErrorMessage"] = op.error_message or ""
    return out


def matches(value: str, values: Sequence[str], condition: str, field: str) -> bool:
    """A ListNamespaces/ListServices/ListOperations filter."""
    if condition == "EQ":
        if len(values) != 1:
            raise InvalidInput(f"The EQ condition takes exactly one value ({field})")
        return value == values[0]
    if condition == "IN":
        return value in values
    if condition == "BEGINS_WITH":
        if len(values) != 1:
            raise InvalidInput(f"The BEGINS_WITH condition takes exactly one value ({field})")
        return value.startswith(values[0])
    raise InvalidInput(f"The {condition} condition is not valid for {field}")
