"""Namespace, operation and tag operations: request in, domain call, output out."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.errors import UnsupportedOperation
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.servicediscovery import validation
from dockyard.services.servicediscovery.errors import (
    InvalidInput,
    NamespaceNotFound,
    ResourceNotFoundException,
    ServiceNotFound,
)
from dockyard.services.servicediscovery.model import Namespace, NamespaceType, Operation, SdService
from dockyard.services.servicediscovery.service import CloudMap
from dockyard.services.servicediscovery.wire import (
    matches,
    namespace_to_wire,
    operation_to_wire,
    paged,
    tags_to_wire,
)

NAMESPACE_FILTERS = {"TYPE": ("EQ", "IN"), "NAME": ("EQ", "BEGINS_WITH"),
                     "HTTP_NAME": ("EQ", "BEGINS_WITH"), "RESOURCE_OWNER": ("EQ",)}  # fmt: skip
OPERATION_FILTERS = {"NAMESPACE_ID": ("EQ",), "SERVICE_ID": ("EQ",), "STATUS": ("EQ", "IN"),
                     "TYPE": ("EQ", "IN"), "UPDATE_DATE": ("BETWEEN",)}  # fmt: skip


def _condition(f: Params, allowed: dict[str, tuple[str, ...]]) -> str:
    condition = str(f.get("Condition") or "EQ")
    if condition not in allowed[f["Name"]]:
        raise InvalidInput(
            f"The {f['Name']} filter takes the condition {' or '.join(allowed[f['Name']])} "
            f"(Filters.Condition: {condition})"
        )
    return condition


def _soa_ttl(p: Params) -> int | None:
    dns = ((p.get("Properties") or {}).get("DnsProperties") or {}).get("SOA")
    return validation.ttl(dns["TTL"], "Properties.DnsProperties.SOA.TTL") if dns else None


def handlers(cm: CloudMap) -> dict[str, Handler]:
    d = cm.directory

    def ns_wire(ns: Namespace, summary: bool = False) -> Result:
        return namespace_to_wire(ns, cm.service_count(ns), summary)

    def create_private_dns_namespace(ctx: RequestContext, p: Params) -> Result:
        op = cm.create_namespace(
            scope_of(ctx), p["Name"], NamespaceType.DNS_PRIVATE,
            description=p.get("Description"), creator_request_id=p.get("CreatorRequestId"),
            vpc=p["Vpc"], soa_ttl=_soa_ttl(p), tags=validation.tags(p.get("Tags")),
        )  # fmt: skip
        return {"OperationId": op.id}

    def create_http_namespace(ctx: RequestContext, p: Params) -> Result:
        op = cm.create_namespace(
            scope_of(ctx), p["Name"], NamespaceType.HTTP,
            description=p.get("Description"), creator_request_id=p.get("CreatorRequestId"),
            tags=validation.tags(p.get("Tags")),
        )  # fmt: skip
        return {"OperationId": op.id}

    def create_public_dns_namespace(ctx: RequestContext, p: Params) -> Result:
        raise UnsupportedOperation(
            "Dockyard does not serve public DNS namespaces (no public DNS here); use "
            "CreatePrivateDnsNamespace, which Dockyard's DNS server answers for, or "
            "CreateHttpNamespace"
        )

    def get_namespace(ctx: RequestContext, p: Params) -> Result:
        return {"Namespace": ns_wire(d.namespace(scope_of(ctx), p["Id"]))}

    def list_namespaces(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = [ns for ns in d.namespaces.values()
                 if (ns.account_id, ns.region) == (scope.account_id, scope.region)]  # fmt: skip
        for f in p.get("Filters") or []:
            condition, values = _condition(f, NAMESPACE_FILTERS), f["Values"]
            if f["Name"] == "RESOURCE_OWNER":
                if values not in (["SELF"], ["OTHER_ACCOUNTS"]):
                    raise InvalidInput("RESOURCE_OWNER takes SELF or OTHER_ACCOUNTS (Filters)")
                found = found if values == ["SELF"] else []
                continue

            def value_of(ns: Namespace, name: str = f["Name"]) -> str:
                return ns.type if name == "TYPE" else ns.name

            found = [ns for ns in found if matches(value_of(ns), values, condition, f["Name"])]
        found.sort(key=lambda ns: ns.id)
        return paged(found, lambda ns: ns.id, p, "Namespaces", lambda ns: ns_wire(ns, True))

    def delete_namespace(ctx: RequestContext, p: Params) -> Result:
        return {"OperationId": cm.delete_namespace(scope_of(ctx), p["Id"]).id}

    def update_private_dns_namespace(ctx: RequestContext, p: Params) -> Result:
        change = p["Namespace"]
        scope = scope_of(ctx)
        if d.namespace(scope, p["Id"]).type != NamespaceType.DNS_PRIVATE:
            raise InvalidInput(f"Namespace {p['Id']} is not a private DNS namespace")
        op = cm.update_namespace(scope, p["Id"], change.get("Description"), _soa_ttl(change))
        return {"OperationId": op.id}

    def update_http_namespace(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if d.namespace(scope, p["Id"]).type != NamespaceType.HTTP:
            raise InvalidInput(f"Namespace {p['Id']} is not an HTTP namespace")
        op = cm.update_namespace(scope, p["Id"], p["Namespace"]["Description"], None)
        return {"OperationId": op.id}

    def get_operation(ctx: RequestContext, p: Params) -> Result:
        return {"Operation": operation_to_wire(d.operation(scope_of(ctx), p["OperationId"]))}

    def list_operations(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = [op for op in d.operations.values()
                 if (op.account_id, op.region) == (scope.account_id, scope.region)]  # fmt: skip
        for f in p.get("Filters") or []:
            condition, values, name = _condition(f, OPERATION_FILTERS), f["Values"], f["Name"]
            if name == "UPDATE_DATE":
                try:
                    low, high = (float(v) for v in values)
                except ValueError as exc:
                    raise InvalidInput(
                        "UPDATE_DATE takes two epoch times with BETWEEN (Filters)"
                    ) from exc
                found = [op for op in found if low <= op.updated <= high]
                continue

            def value_of(op: Operation, name: str = name) -> str:
                if name == "NAMESPACE_ID":
                    return op.targets.get("NAMESPACE", "")
                if name == "SERVICE_ID":
                    return op.targets.get("SERVICE", "")
                return op.status if name == "STATUS" else op.type

            found = [op for op in found if matches(value_of(op), values, condition, name)]
        found.sort(key=lambda op: (op.created, op.id))
        return paged(
            found, lambda op: f"{op.created:020.6f}/{op.id}", p, "Operations",
            lambda op: {"Id": op.id, "Status": op.status},
        )  # fmt: skip

    def tagged(ctx: RequestContext, resource_arn: str) -> Namespace | SdService:
        scope = scope_of(ctx)
        try:
            if ":namespace/" in resource_arn:
                return d.namespace(scope, resource_arn)
            if ":service/" in resource_arn:
                return d.service(scope, resource_arn)
        except (NamespaceNotFound, ServiceNotFound):
            pass
        raise ResourceNotFoundException(f"Resource not found: {resource_arn}")

    def save(resource: Namespace | SdService) -> None:
        if isinstance(resource, Namespace):
            d.save_namespace(resource)
        else:
            d.save_service(resource)

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        resource = tagged(ctx, p["ResourceARN"])
        merged = {**resource.tags, **validation.tags(p["Tags"])}
        validation.tags([{"Key": k, "Value": v} for k, v in merged.items()])
        resource.tags = merged
        save(resource)
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        resource = tagged(ctx, p["ResourceARN"])
        for key in p["TagKeys"]:
            resource.tags.pop(key, None)
        save(resource)
        return {}

    def list_tags_for_resource(ctx: RequestContext, p: Params) -> Result:
        return {"Tags": tags_to_wire(tagged(ctx, p["ResourceARN"]).tags)}

    return {
        "CreatePrivateDnsNamespace": create_private_dns_namespace,
        "CreateHttpNamespace": create_http_namespace,
        "CreatePublicDnsNamespace": create_public_dns_namespace,
        "GetNamespace": get_namespace,
        "ListNamespaces": list_namespaces,
        "DeleteNamespace": delete_namespace,
        "UpdatePrivateDnsNamespace": update_private_dns_namespace,
        "UpdateHttpNamespace": update_http_namespace,
        "GetOperation": get_operation,
        "ListOperations": list_operations,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
        "ListTagsForResource": list_tags_for_resource,
    }
