"""ECS AppSpec files (YAML or JSON): the task definition, container and port of the
replacement task set. AppSpec hooks name Lambda functions, which Dockyard does not run: an
AppSpec with `Hooks` is refused by name rather than deployed without them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from dockyard.services.codedeploy.errors import InvalidRevisionException, RevisionRequiredException
from dockyard.services.codedeploy.model import EcsAppSpec

ECS_SERVICE_TYPE = "AWS::ECS::Service"


def content_of(revision: dict[str, Any] | None) -> str:
    """The AppSpec text of a revision (AppSpecContent or String)."""
    if not revision:
        raise RevisionRequiredException("A revision must be specified (revision).")
    kind = revision.get("revisionType")
    if kind == "AppSpecContent":
        body = revision.get("appSpecContent") or {}
    elif kind == "String":
        body = revision.get("string") or {}
    else:
        raise InvalidRevisionException(
            f"Dockyard deploys ECS revisions given as AppSpecContent or String; revision type "
            f"{kind} is not supported yet (revision.revisionType)."
        )
    content = body.get("content")
    if not content:
        raise InvalidRevisionException("The AppSpec content is empty (revision content).")
    digest = body.get("sha256")
    if digest and hashlib.sha256(content.encode()).hexdigest() != digest.lower():
        raise InvalidRevisionException(
            "The AppSpec content does not match its sha256 (revision sha256)."
        )
    return str(content)


def _load(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidRevisionException(
                f"The AppSpec content is neither valid JSON nor valid YAML: {exc}"
            ) from exc
    if not isinstance(doc, dict):
        raise InvalidRevisionException("The AppSpec content must be a mapping.")
    return doc


def _network(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    vpc = raw.get("AwsvpcConfiguration") if isinstance(raw, dict) else None
    if not isinstance(vpc, dict):
        raise InvalidRevisionException(
            "NetworkConfiguration needs an AwsvpcConfiguration (AppSpec NetworkConfiguration)."
        )
    out: dict[str, Any] = {"subnets": [str(s) for s in vpc.get("Subnets") or []]}
    if vpc.get("SecurityGroups"):
        out["securityGroups"] = [str(s) for s in vpc["SecurityGroups"]]
    if vpc.get("AssignPublicIp"):
        out["assignPublicIp"] = str(vpc["AssignPublicIp"])
    return {"awsvpcConfiguration": out}


def parse_ecs(text: str) -> EcsAppSpec:
    doc = _load(text)
    if doc.get("Hooks"):
        raise InvalidRevisionException(
            "Dockyard does not run AppSpec lifecycle hooks yet (they invoke Lambda functions); "
            "remove Hooks from the AppSpec content (Hooks)."
        )
    resources = doc.get("Resources")
    if not isinstance(resources, list) or len(resources) != 1:
        raise InvalidRevisionException(
            "An ECS AppSpec needs exactly one resource in Resources (Resources)."
        )
    resource = resources[0]
    if not isinstance(resource, dict) or len(resource) != 1:
        raise InvalidRevisionException("An AppSpec resource must be a single named mapping.")
    (body,) = resource.values()
    if not isinstance(body, dict) or body.get("Type") != ECS_SERVICE_TYPE:
        raise InvalidRevisionException(
            f"The AppSpec resource must be of Type {ECS_SERVICE_TYPE} (Resources.Type)."
        )
    props = body.get("Properties") or {}
    taskdef = props.get("TaskDefinition")
    if not taskdef:
        raise InvalidRevisionException(
            "The AppSpec resource needs a TaskDefinition (Resources.Properties.TaskDefinition)."
        )
    lb = props.get("LoadBalancerInfo") or {}
    container, port = lb.get("ContainerName"), lb.get("ContainerPort")
    if not container or port is None:
        raise InvalidRevisionException(
            "The AppSpec resource needs LoadBalancerInfo with ContainerName and ContainerPort "
            "(Resources.Properties.LoadBalancerInfo)."
        )
    try:
        port_number = int(port)
    except (TypeError, ValueError) as exc:
        raise InvalidRevisionException(f"Invalid ContainerPort: {port}") from exc
    if props.get("CapacityProviderStrategy"):
        raise InvalidRevisionException(
            "Dockyard does not support a CapacityProviderStrategy in the AppSpec yet "
            "(Resources.Properties.CapacityProviderStrategy)."
        )
    return EcsAppSpec(
        task_definition=str(taskdef),
        container_name=str(container),
        container_port=port_number,
        platform_version=str(props["PlatformVersion"]) if props.get("PlatformVersion") else None,
        network_configuration=_network(props.get("NetworkConfiguration")),
    )
