"""A registration that names its EC2 instance: the instance identity document and signature
the agent read from the metadata service (RegisterContainerInstance's
`instanceIdentityDocument` and `instanceIdentityDocumentSignature`).

With EC2 wired (`Instances.identity_verifier`), a document counts only when its signature
verifies; the container instance then is that EC2 instance: its `ec2InstanceId` and the
`ecs.availability-zone`, `ecs.instance-type`, `ecs.ami-id` and `ecs.os-type` attributes come
from the document. A signature that does not verify is refused as ECS refuses it. Without
EC2 (no verifier) the document's instance id is taken as given, as before.
"""

from __future__ import annotations

import json
from typing import Any

from dockyard.core.hosts import IdentityVerifier
from dockyard.services.ecs.errors import ClientException, InvalidParameterException

INVALID_IDENTITY = "The identity document and identity document signature were not valid."
MAX_DOCUMENT = 64 * 1024  # characters


def _parse(document: str) -> dict[str, Any]:
    if len(document) > MAX_DOCUMENT:
        raise InvalidParameterException(
            f"instanceIdentityDocument must be at most {MAX_DOCUMENT} characters "
            "(instanceIdentityDocument)."
        )
    try:
        parsed = json.loads(document)
    except ValueError as exc:
        raise InvalidParameterException(
            "instanceIdentityDocument must be a JSON document (instanceIdentityDocument)."
        ) from exc
    if not isinstance(parsed, dict):
        raise InvalidParameterException(
            "instanceIdentityDocument must be a JSON document (instanceIdentityDocument)."
        )
    return parsed


def identity_fields(
    verifier: IdentityVerifier | None,
    document: str | None,
    signature: str | None,
    attributes: dict[str, str | None],
) -> dict[str, Any]:
    """The container instance fields a registration's identity document sets (none without
    a document): `ec2_instance_id`, and `attributes` with the document's merged in."""
    if not document:
        return {}
    parsed = _parse(document)
    instance_id = parsed.get("instanceId")
    if verifier is None:
        return {"ec2_instance_id": str(instance_id)} if instance_id else {}
    if not signature or not verifier.verify(document.encode(), signature):
        raise ClientException(INVALID_IDENTITY)
    if not isinstance(instance_id, str) or not instance_id:
        raise ClientException(INVALID_IDENTITY)
    merged = dict(attributes)
    merged["ecs.os-type"] = "linux"  # micro-hosts are Linux
    for attribute, key in (
        ("ecs.availability-zone", "availabilityZone"),
        ("ecs.instance-type", "instanceType"),
        ("ecs.ami-id", "imageId"),
    ):
        value = parsed.get(key)
        if isinstance(value, str) and value:
            merged[attribute] = value
    return {"ec2_instance_id": instance_id, "attributes": merged}
