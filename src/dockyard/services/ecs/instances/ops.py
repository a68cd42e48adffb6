"""ECS container instance operations: request in, domain call, output shape out."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.placement import ExpressionError, compile_expression
from dockyard.services.ecs.errors import InvalidParameterException
from dockyard.services.ecs.instances.domain import (
    LISTABLE_STATUSES,
    REGISTERED_STATUSES,
    ContainerInstance,
    InstanceStatus,
)
from dockyard.services.ecs.instances.ec2_identity import identity_fields
from dockyard.services.ecs.instances.registration import cluster_for_registration
from dockyard.services.ecs.instances.wire import describe_instance, record_instance_event
from dockyard.services.ecs.listing import list_page
from dockyard.services.ecs.service import Ecs
from dockyard.services.ecs.tags import validate_tags

RUNNING_TASKS_ERROR = "Found running tasks on the instance."


def parse_resources(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """CPU, MEMORY (INTEGER) and PORTS, PORTS_UDP (STRINGSET) of `totalResources`."""
    out: dict[str, Any] = {"reserved_ports": [], "reserved_udp_ports": []}
    for r in resources:
        name = r.get("name")
        if name in ("CPU", "MEMORY"):
            value = r.get("integerValue")
            if value is None:
                value = r.get("longValue") or int(r.get("doubleValue") or 0)
            if int(value) < 0:
                raise InvalidParameterException(f"{name} must not be negative (totalResources).")
            out[name.lower()] = int(value)
        elif name in ("PORTS", "PORTS_UDP"):
            try:
                ports = sorted({int(p) for p in r.get("stringSetValue") or []})
            except ValueError as exc:
                raise InvalidParameterException(
                    f"{name} must list port numbers (totalResources)."
                ) from exc
            out["reserved_ports" if name == "PORTS" else "reserved_udp_ports"] = ports
    for needed in ("cpu", "memory"):
        if needed not in out:
            raise InvalidParameterException(
                f"totalResources must include {needed.upper()} (totalResources)."
            )
    return out


def parse_attributes(attributes: list[dict[str, Any]]) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    for a in attributes:
        name = a.get("name") or ""
        if not name or len(name) > 128:
            raise InvalidParameterException(
                f"Attribute names must have 1 to 128 characters (attributes.name: {name!r})."
            )
        result[name] = a.get("value")
    return result


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def register_container_instance(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = cluster_for_registration(ecs, scope, p.get("cluster"))
        resources = parse_resources(p.get("totalResources") or [])
        fields: dict[str, Any] = {
            "attributes": parse_attributes(p.get("attributes") or []),
            "tags": validate_tags(p.get("tags") or []),
            "reserved_ports": resources["reserved_ports"],
            "reserved_udp_ports": resources["reserved_udp_ports"],
        }
        fields.update(identity_fields(
            ecs.instances.identity_verifier,
            p.get("instanceIdentityDocument"),
            p.get("instanceIdentityDocumentSignature"),
            fields["attributes"],
        ))  # fmt: skip
        version = p.get("versionInfo") or {}
        fields["agent_version"] = version.get("agentVersion", "")
        fields["agent_hash"] = version.get("agentHash", "")
        fields["docker_version"] = version.get("dockerVersion", "")
        existing = p.get("containerInstanceArn")
        instance = ecs.instances.register(
            scope,
            cluster.arn,
            cpu=resources["cpu"],
            memory=resources["memory"],
            existing_arn=existing,
            **fields,
        )
        record_instance_event(ecs, instance)
        return {"containerInstance": describe_instance(ecs, instance, {"TAGS"})}

    def describe_container_instances(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        refs = p.get("containerInstances") or []
        if len(refs) > 100:
            raise InvalidParameterException(
                "containerInstances can have at most 100 items (containerInstances)."
            )
        include = set(p.get("include") or [])
        found, failures = [], []
        for ref in refs:
            instance = ecs.instances.find(scope, cluster.arn, ref)
            if instance is None:
                arn = ecs.instances.arn_for(scope, cluster.arn, ref)
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(describe_instance(ecs, instance, include))
        return {"containerInstances": found, "failures": failures}

    def list_container_instances(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        status = p.get("status")
        statuses = (status,) if status else REGISTERED_STATUSES
        if status and status not in LISTABLE_STATUSES:
            raise InvalidParameterException(f"Invalid status {status!r} (status).")
        instances = ecs.instances.in_cluster(cluster.arn, statuses)
        if p.get("filter"):
            try:
                predicate = compile_expression(p["filter"])
            except ExpressionError as exc:
                message = f"Invalid filter expression: {exc} (filter)."
                raise InvalidParameterException(message) from exc
            instances = [i for i in instances if predicate(facts(ecs, i))]
        chunk, more = list_page(instances, lambda i: i.arn, p)
        return {"containerInstanceArns": [i.arn for i in chunk], **more}

    def deregister_container_instance(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        cluster = ecs.clusters.get(scope, p.get("cluster"))
        instance = ecs.instances.find(scope, cluster.arn, p["containerInstance"])
        if instance is None or instance.status == InstanceStatus.INACTIVE:
            raise InvalidParameterException("The referenced container instance was not found.")
        tasks = ecs.tasks.assigned(instance.arn)
        if tasks and not p.get("force"):
            raise InvalidParameterException(RUNNING_TASKS_ERROR)
        ecs.instances.deregister(instance)
        # Its agent is told to stop what still runs there (it fetches assignments until done).
        for task in tasks:
            ecs.tasks.stop(task, "UserInitiated", "Container instance deregistered")
        record_instance_event(ecs, instance)
        return {"containerInstance": describe_instance(ecs, instance)}

    return {
        "RegisterContainerInstance": register_container_instance,
        "DescribeContainerInstances": describe_container_instances,
        "ListContainerInstances": list_container_instances,
        "DeregisterContainerInstance": deregister_container_instance,
    }


def facts(ecs: Ecs, instance: ContainerInstance) -> dict[str, str | None]:
    """What the cluster query language can ask about an instance."""
    usage = ecs.tasks.usage(instance.arn)
    result: dict[str, str | None] = {
        f"attribute:{name}": value for name, value in instance.attributes.items()
    }
    result.update(
        {
            "ec2InstanceId": instance.ec2_instance_id,
            "agentConnected": str(instance.agent_connected).lower(),
            "agentVersion": instance.agent_version,
            "runningTasksCount": str(usage.running),
            "registeredAt": str(instance.registered_at),
            "attribute:ecs.availability-zone": instance.attributes.get(
                "ecs.availability-zone", f"{instance.arn.split(':')[3]}a"
            ),
        }
    )
    return result
