"""Service operations: services, their DNS configuration and their attributes."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.servicediscovery import validation
from dockyard.services.servicediscovery.errors import (
    InvalidInput,
    ServiceAttributesLimitExceededException,
)
from dockyard.services.servicediscovery.model import SdService
from dockyard.services.servicediscovery.service import CloudMap
from dockyard.services.servicediscovery.wire import matches, paged, service_to_wire


def handlers(cm: CloudMap) -> dict[str, Handler]:
    d = cm.directory

    def wire(svc: SdService, summary: bool = False) -> Result:
        return service_to_wire(svc, len(d.instances.get(svc.id, {})), summary)

    def create_service(ctx: RequestContext, p: Params) -> Result:
        svc = cm.create_service(
            scope_of(ctx), p["Name"], p.get("NamespaceId"),
            dns_config=p.get("DnsConfig"), health_check=p.get("HealthCheckConfig"),
            custom_health=p.get("HealthCheckCustomConfig"), description=p.get("Description"),
            creator_request_id=p.get("CreatorRequestId"), http_only=p.get("Type") == "HTTP",
            tags=validation.tags(p.get("Tags")),
        )  # fmt: skip
        return {"Service": wire(svc)}

    def get_service(ctx: RequestContext, p: Params) -> Result:
        return {"Service": wire(d.service(scope_of(ctx), p["Id"]))}

    def list_services(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        found = [s for s in d.services.values()
                 if (s.account_id, s.region) == (scope.account_id, scope.region)]  # fmt: skip
        for f in p.get("Filters") or []:
            condition = str(f.get("Condition") or "EQ")
            if f["Name"] == "RESOURCE_OWNER":
                if f["Values"] not in (["SELF"], ["OTHER_ACCOUNTS"]):
                    raise InvalidInput("RESOURCE_OWNER takes SELF or OTHER_ACCOUNTS (Filters)")
                found = found if f["Values"] == ["SELF"] else []
                continue
            if condition not in ("EQ", "IN"):
                raise InvalidInput(f"NAMESPACE_ID takes EQ or IN (Filters.Condition: {condition})")
            values = f["Values"]
            found = [s for s in found if matches(s.namespace_id, values, condition, "NAMESPACE_ID")]
        found.sort(key=lambda s: s.id)
        return paged(found, lambda s: s.id, p, "Services", lambda s: wire(s, True))

    def update_service(ctx: RequestContext, p: Params) -> Result:
        change = p["Service"]
        records = None
        if change.get("DnsConfig") is not None:
            records = validation.dns_records(
                change["DnsConfig"]["DnsRecords"], "Service.DnsConfig.DnsRecords"
            )
        op = cm.update_service(
            scope_of(ctx), p["Id"], description=change.get("Description"), records=records,
            health_check=change.get("HealthCheckConfig"),
        )  # fmt: skip
        return {"OperationId": op.id}

    def delete_service(ctx: RequestContext, p: Params) -> Result:
        cm.delete_service(scope_of(ctx), p["Id"])
        return {}

    def get_service_attributes(ctx: RequestContext, p: Params) -> Result:
        svc = d.service(scope_of(ctx), p["ServiceId"])
        return {"ServiceAttributes": {"ServiceArn": svc.arn, "ResourceOwner": svc.account_id,
                                      "Attributes": dict(svc.attributes)}}  # fmt: skip

    def update_service_attributes(ctx: RequestContext, p: Params) -> Result:
        svc = d.service(scope_of(ctx), p["ServiceId"])
        merged = {**svc.attributes, **p["Attributes"]}
        if len(merged) > validation.MAX_SERVICE_ATTRIBUTES:
            raise ServiceAttributesLimitExceededException(
                f"A service can have at most {validation.MAX_SERVICE_ATTRIBUTES} attributes"
            )
        svc.attributes = merged
        d.save_service(svc)
        return {}

    def delete_service_attributes(ctx: RequestContext, p: Params) -> Result:
        svc = d.service(scope_of(ctx), p["ServiceId"])
        for key in p["Attributes"]:
            svc.attributes.pop(key, None)
        d.save_service(svc)
        return {}

    return {
        "CreateService": create_service,
        "GetService": get_service,
        "ListServices": list_services,
        "UpdateService": update_service,
        "DeleteService": delete_service,
        "GetServiceAttributes": get_service_attributes,
        "UpdateServiceAttributes": update_service_attributes,
        "DeleteServiceAttributes": delete_service_attributes,
    }
