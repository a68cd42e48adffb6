"""ECS attributes on container instances: PutAttributes, DeleteAttributes, ListAttributes.

Attributes are what placement constraints and spread strategies look at
(`attribute:stack == prod`); instances get ECS's own (`ecs.availability-zone`, ...) from their
agent, and users add custom ones here, up to 10 per instance.
"""

from __future__ import annotations

import re
from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.ecs.clusters.domain import Cluster
from dockyard.services.ecs.errors import (
    AttributeLimitExceededException,
    InvalidParameterException,
    TargetNotFoundException,
)
from dockyard.services.ecs.instances.domain import ContainerInstance, InstanceStatus
from dockyard.services.ecs.listing import list_page
from dockyard.services.ecs.service import Ecs

TARGET_TYPE = "container-instance"
MAX_CUSTOM = 10
MAX_PER_CALL = 10
# Attributes agents set themselves (ECS's, and the network modes our drivers advertise).
BUILT_IN_PREFIXES = ("ecs.", "com.amazonaws.ecs.", "dockyard.")
_NAME = re.compile(r"^[A-Za-z0-9_./\\-]{1,128}$")
_VALUE = re.compile(r"^[A-Za-z0-9_.@/\\: -]{1,128}$")


def _check(a: dict[str, Any], with_value: bool) -> None:
    name = str(a.get("name") or "")
    if not _NAME.match(name):
        raise InvalidParameterException(
            "Attribute names can have up to 128 letters, numbers, hyphens, underscores, "
            f"periods and slashes (attributes.name: {name!r})."
        )
    value = a.get("value")
    if with_value and value is not None:
        text = str(value)
        if not _VALUE.match(text) or text != text.strip():
            raise InvalidParameterException(
                "Attribute values can have up to 128 letters, numbers, hyphens, underscores, "
                "periods, at signs, slashes, colons and spaces, and cannot start or end with a "
                f"space (attributes.value: {text!r})."
            )
    target_type = a.get("targetType") or TARGET_TYPE
    if target_type != TARGET_TYPE:
        raise InvalidParameterException(
            f"targetType must be container-instance (attributes.targetType: {target_type})."
        )
    if not a.get("targetId"):
        raise InvalidParameterException(
            f"Attribute {name} needs the container instance it applies to (attributes.targetId)."
        )


def _targets(
    ecs: Ecs, ctx: RequestContext, cluster: Cluster, attributes: list[dict[str, Any]]
) -> list[ContainerInstance]:
    scope = scope_of(ctx)
    found = []
    for a in attributes:
        instance = ecs.instances.find(scope, cluster.arn, str(a["targetId"]))
        if instance is None or instance.status == InstanceStatus.INACTIVE:
            raise TargetNotFoundException(
                f"Could not find {a['targetId']}. Target container instance was not found "
                "in the cluster."
            )
        found.append(instance)
    return found


def _wire(instance: ContainerInstance, name: str, value: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "targetType": TARGET_TYPE, "targetId": instance.arn}
    if value is not None:
        out["value"] = value
    return out


def _given(p: Params, with_value: bool) -> list[dict[str, Any]]:
    attributes = list(p.get("attributes") or [])
    if not attributes:
        raise InvalidParameterException("attributes can not be empty (attributes).")
    if len(attributes) > MAX_PER_CALL:
        raise AttributeLimitExceededException(
            f"At most {MAX_PER_CALL} attributes can be given in one call (attributes)."
        )
    for a in attributes:
        _check(a, with_value)
    return attributes


def handlers(ecs: Ecs) -> dict[str, Handler]:
    def put_attributes(ctx: RequestContext, p: Params) -> Result:
        cluster = ecs.clusters.get(scope_of(ctx), p.get("cluster"))
        attributes = _given(p, with_value=True)
        targets = _targets(ecs, ctx, cluster, attributes)
        # Check every instance's limit before changing any.
        after: dict[str, dict[str, str | None]] = {}
        for a, instance in zip(attributes, targets, strict=True):
            merged = after.setdefault(instance.arn, dict(instance.attributes))
            merged[str(a["name"])] = a.get("value")
        for arn, merged in after.items():
            custom = [n for n in merged if not n.startswith(BUILT_IN_PREFIXES)]
            if len(custom) > MAX_CUSTOM:
                raise AttributeLimitExceededException(
                    f"A container instance can have at most {MAX_CUSTOM} custom attributes "
                    f"({arn} would have {len(custom)})."
                )
        for instance in {i.arn: i for i in targets}.values():
            instance.attributes = after[instance.arn]
            instance.version += 1
            ecs.instances.save(instance)
        return {
            "attributes": [
                _wire(i, str(a["name"]), a.get("value"))
                for a, i in zip(attributes, targets, strict=True)
            ]
        }

    def delete_attributes(ctx: RequestContext, p: Params) -> Result:
        cluster = ecs.clusters.get(scope_of(ctx), p.get("cluster"))
        attributes = _given(p, with_value=False)
        targets = _targets(ecs, ctx, cluster, attributes)
        out = []
        for a, instance in zip(attributes, targets, strict=True):
            name = str(a["name"])
            value = instance.attributes.pop(name, a.get("value"))
            out.append(_wire(instance, name, value))
        for instance in {i.arn: i for i in targets}.values():
            instance.version += 1
            ecs.instances.save(instance)
        return {"attributes": out}

    def list_attributes(ctx: RequestContext, p: Params) -> Result:
        cluster = ecs.clusters.get(scope_of(ctx), p.get("cluster"))
        if p.get("targetType") != TARGET_TYPE:
            raise InvalidParameterException(
                f"targetType must be container-instance (targetType: {p.get('targetType')})."
            )
        name, value = p.get("attributeName"), p.get("attributeValue")
        if value is not None and not name:
            raise InvalidParameterException(
                "attributeValue can only be given with attributeName (attributeValue)."
            )
        found = []
        for instance in ecs.instances.in_cluster(cluster.arn, ("ACTIVE", "DRAINING")):
            for n, v in sorted(instance.attributes.items()):
                if (name is None or n == name) and (value is None or v == value):
                    found.append(_wire(instance, n, v))
        chunk, more = list_page(found, lambda a: f"{a['targetId']} {a['name']}", p)
        return {"attributes": chunk, **more}

    return {
        "PutAttributes": put_attributes,
        "DeleteAttributes": delete_attributes,
        "ListAttributes": list_attributes,
    }
