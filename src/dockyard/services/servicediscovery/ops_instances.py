"""Instance operations: registration, listing, discovery and health."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.servicediscovery.errors import InstanceNotFound, InvalidInput
from dockyard.services.servicediscovery.model import Instance
from dockyard.services.servicediscovery.service import CloudMap
from dockyard.services.servicediscovery.wire import paged

DISCOVER_DEFAULT_MAX = 100


def handlers(cm: CloudMap) -> dict[str, Handler]:
    d = cm.directory

    def register_instance(ctx: RequestContext, p: Params) -> Result:
        op = cm.register_instance(
            scope_of(ctx), p["ServiceId"], p["InstanceId"], dict(p["Attributes"]),
            creator_request_id=p.get("CreatorRequestId"),
        )  # fmt: skip
        return {"OperationId": op.id}

    def deregister_instance(ctx: RequestContext, p: Params) -> Result:
        op = cm.deregister_instance(scope_of(ctx), p["ServiceId"], p["InstanceId"])
        return {"OperationId": op.id}

    def get_instance(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        svc = d.service(scope, p["ServiceId"])
        inst = d.instance(svc, p["InstanceId"])
        out: Result = {"Id": inst.id, "Attributes": dict(inst.attributes),
                       "CreatedByAccount": svc.account_id}  # fmt: skip
        if inst.creator_request_id:
            out["CreatorRequestId"] = inst.creator_request_id
        return {"ResourceOwner": svc.account_id, "Instance": out}

    def list_instances(ctx: RequestContext, p: Params) -> Result:
        svc = d.service(scope_of(ctx), p["ServiceId"])
        out = paged(
            d.instances_of(svc), lambda i: i.id, p, "Instances",
            lambda i: {"Id": i.id, "Attributes": dict(i.attributes),
                       "CreatedByAccount": svc.account_id},
        )  # fmt: skip
        out["ResourceOwner"] = svc.account_id
        return out

    def discover_instances(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if p.get("OwnerAccount") not in (None, scope.account_id):
            raise InvalidInput("Namespaces shared from other accounts are not supported")
        svc, found = cm.discover(
            scope, p["NamespaceName"], p["ServiceName"], health=p.get("HealthStatus"),
            query=dict(p.get("QueryParameters") or {}),
            optional=dict(p.get("OptionalParameters") or {}),
        )  # fmt: skip
        limit = p.get("MaxResults") or DISCOVER_DEFAULT_MAX
        ns = d.namespaces[svc.namespace_id]
        return {
            "Instances": [
                {"InstanceId": i.id, "NamespaceName": ns.name, "ServiceName": svc.name,
                 "HealthStatus": health, "Attributes": dict(i.attributes)}
                for i, health in found[:limit]
            ],
            "InstancesRevision": svc.revision,
        }  # fmt: skip

    def discover_instances_revision(ctx: RequestContext, p: Params) -> Result:
        svc, _ = cm.discover(scope_of(ctx), p["NamespaceName"], p["ServiceName"],
                             health="ALL", query={}, optional={})  # fmt: skip
        return {"InstancesRevision": svc.revision}

    def get_instances_health_status(ctx: RequestContext, p: Params) -> Result:
        svc = d.service(scope_of(ctx), p["ServiceId"])
        asked = p.get("Instances")
        instances: list[Instance] = []
        if asked:
            for instance_id in asked:
                found = d.instances.get(svc.id, {}).get(instance_id)
                if found is None:
                    raise InstanceNotFound(f"Instance not found: {instance_id}")
                instances.append(found)
            instances.sort(key=lambda i: i.id)
        else:
            instances = d.instances_of(svc)
        page = paged(instances, lambda i: i.id, p, "Status", lambda i: i)
        out: Result = {"Status": {i.id: cm.health_of(svc, i) for i in page["Status"]}}
        if page.get("NextToken"):
            out["NextToken"] = page["NextToken"]
        return out

    def update_instance_custom_health_status(ctx: RequestContext, p: Params) -> Result:
        cm.set_custom_health(scope_of(ctx), p["ServiceId"], p["InstanceId"], p["Status"])
        return {}

    return {
        "RegisterInstance": register_instance,
        "DeregisterInstance": deregister_instance,
        "GetInstance": get_instance,
        "ListInstances": list_instances,
        "DiscoverInstances": discover_instances,
        "DiscoverInstancesRevision": discover_instances_revision,
        "GetInstancesHealthStatus": get_instances_health_status,
        "UpdateInstanceCustomHealthStatus": update_instance_custom_health_status,
    }
