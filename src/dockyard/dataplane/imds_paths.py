"""What the instance metadata service answers at each path, for one instance.

The categories form a tree: a directory's listing names its entries one a line, directories
with a trailing `/` as IMDS shows them; a leaf is its text. `/latest/meta-data/iam/` exists
only with an instance profile, `tags/instance/` only when the metadata options allow tags,
`/latest/user-data` only when the instance has user data.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dockyard.core.hosts import InstanceView

IDENTITY_VERSION = "2017-09-30"
ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}

# A leaf is its text, or what makes it when asked (the identity document's signature).
Leaf = bytes | Callable[[], bytes]
Tree = dict[str, "Tree | Leaf"]


@dataclass(frozen=True, slots=True)
class Found:
    body: bytes


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def architecture() -> str:
    """The micro-hosts run on this machine: its architecture is theirs."""
    machine = platform.machine().lower()
    return ARCHITECTURES.get(machine, machine)


def identity_document(view: InstanceView) -> bytes:
    """The instance identity document, laid out as IMDS serves it (and as it is signed)."""
    document = {
        "accountId": view.account_id,
        "architecture": architecture(),
        "availabilityZone": view.availability_zone,
        "billingProducts": None,
        "devpayProductCodes": None,
        "marketplaceProductCodes": None,
        "imageId": view.image_id,
        "instanceId": view.instance_id,
        "instanceType": view.instance_type,
        "kernelId": None,
        "pendingTime": iso(view.launch_time),
        "privateIp": view.private_ip,
        "ramdiskId": None,
        "region": view.region,
        "version": IDENTITY_VERSION,
    }
    return json.dumps(document, indent=2, separators=(",", " : ")).encode()


def _json(value: Mapping[str, object]) -> bytes:
    return json.dumps(value, indent=2).encode()


def _lines(items: list[str] | tuple[str, ...]) -> bytes:
    return "\n".join(items).encode()


def _interface(view: InstanceView) -> Tree:
    return {
        "device-number": b"0",
        "local-hostname": view.hostname.encode(),
        "local-ipv4s": view.private_ip.encode(),
        "mac": view.mac.encode(),
        "owner-id": view.account_id.encode(),
        "security-group-ids": _lines(view.security_group_ids),
        "security-groups": _lines(view.security_groups),
        "subnet-id": view.subnet_id.encode(),
        "subnet-ipv4-cidr-block": view.subnet_cidr.encode(),
        "vpc-id": view.vpc_id.encode(),
        "vpc-ipv4-cidr-block": view.vpc_cidr.encode(),
        "vpc-ipv4-cidr-blocks": view.vpc_cidr.encode(),
    }


def meta_data(view: InstanceView, credentials: Mapping[str, str] | None, now: float) -> Tree:
    interface = _interface(view)
    tree: Tree = {
        "ami-id": view.image_id.encode(),
        "ami-launch-index": b"0",
        "hostname": view.hostname.encode(),
        "instance-action": b"none",
        "instance-id": view.instance_id.encode(),
        "instance-type": view.instance_type.encode(),
        "local-hostname": view.hostname.encode(),
        "local-ipv4": view.private_ip.encode(),
        "mac": view.mac.encode(),
        "network": {"interfaces": {"macs": {view.mac: interface}}},
        "placement": {
            "availability-zone": view.availability_zone.encode(),
            "region": view.region.encode(),
        },
        "security-groups": _lines(view.security_groups),
        "services": {"domain": b"amazonaws.com", "partition": b"aws"},
    }
    if view.role_name:
        info: dict[str, object] = {"Code": "Success", "LastUpdated": iso(now)}
        if view.instance_profile_arn:
            info["InstanceProfileArn"] = view.instance_profile_arn
        roles: Tree = {}
        if credentials is not None:
            roles[view.role_name] = _json({
                "Code": "Success",
                "LastUpdated": credentials.get("LastUpdated", iso(now)),
                "Type": "AWS-HMAC",
                "AccessKeyId": credentials["AccessKeyId"],
                "SecretAccessKey": credentials["SecretAccessKey"],
                "Token": credentials["Token"],
                "Expiration": credentials["Expiration"],
            })  # fmt: skip
        tree["iam"] = {"info": _json(info), "security-credentials": roles}
    if view.tags is not None:
        tree["tags"] = {"instance": {k: v.encode() for k, v in sorted(view.tags.items())}}
    return tree


def latest(
    view: InstanceView,
    credentials: Mapping[str, str] | None,
    now: float,
    sign: Callable[[bytes], str],
) -> Tree:
    document = identity_document(view)
    identity: Tree = {"document": document, "signature": lambda: sign(document).encode()}
    tree: Tree = {
        "dynamic": {"instance-identity": identity},
        "meta-data": meta_data(view, credentials, now),
    }
    if view.user_data:
        tree["user-data"] = view.user_data
    return tree


def listing(tree: Tree) -> bytes:
    return _lines([f"{name}/" if isinstance(node, dict) else name for name, node in tree.items()])


def resolve(tree: Tree, segments: list[str]) -> Found | None:
    """The answer at `segments` below `tree`: a listing for a directory, a leaf's text; None
    when nothing is there. A leaf asked for with a trailing `/` is the leaf, as IMDS answers
    it (botocore asks for `placement/availability-zone/`)."""
    node: Tree | Leaf = tree
    for i, segment in enumerate(segments):
        if segment == "" and i == len(segments) - 1:
            break  # "dir/": the directory itself (or a leaf asked for as "leaf/")
        if not isinstance(node, dict):
            return None
        found = node.get(segment)
        if found is None:
            return None
        node = found
    if isinstance(node, dict):
        return Found(listing(node))
    return Found(node if isinstance(node, bytes) else node())
