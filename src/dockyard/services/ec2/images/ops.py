"""DescribeImages: the built-in images as EC2's `Image` shape, with EC2's filters."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.images import CREATED, OWNER_ALIAS, BuiltinImage
from dockyard.services.ec2 import filters
from dockyard.services.ec2.errors import InvalidParameterCombination
from dockyard.services.ec2.images.images import Images, checked_id, not_found

ROOT_DEVICE = "/dev/xvda"

IMAGE_FILTERS = (
    "architecture",
    "block-device-mapping.delete-on-termination",
    "block-device-mapping.device-name",
    "block-device-mapping.snapshot-id",
    "block-device-mapping.volume-size",
    "block-device-mapping.volume-type",
    "block-device-mapping.encrypted",
    "boot-mode",
    "creation-date",
    "deprecation-time",
    "description",
    "ena-support",
    "hypervisor",
    "image-allowed",
    "image-id",
    "image-type",
    "imds-support",
    "is-public",
    "kernel-id",
    "manifest-location",
    "name",
    "owner-alias",
    "owner-id",
    "platform",
    "platform-details",
    "product-code",
    "product-code.type",
    "ramdisk-id",
    "root-device-name",
    "root-device-type",
    "source-image-id",
    "source-image-region",
    "source-instance-id",
    "sriov-net-support",
    "state",
    "state-reason-code",
    "state-reason-message",
    "usage-operation",
    "virtualization-type",
)


def image(i: BuiltinImage) -> dict[str, Any]:
    return {
        "ImageId": i.image_id,
        "ImageLocation": f"{OWNER_ALIAS}/{i.name}",
        "State": "available",
        "OwnerId": i.owner_id,
        "CreationDate": CREATED,
        "Public": True,
        "Architecture": i.architecture,
        "ImageType": "machine",
        "ImageOwnerAlias": OWNER_ALIAS,
        "Name": i.name,
        "Description": i.description,
        "RootDeviceName": ROOT_DEVICE,
        "RootDeviceType": "ebs",
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "EnaSupport": True,
        "SriovNetSupport": "simple",
        "BootMode": "uefi-preferred",
        "ImdsSupport": "v2.0",
        "PlatformDetails": "Linux/UNIX",
        "UsageOperation": "RunInstances",
        "BlockDeviceMappings": [
            {
                "DeviceName": ROOT_DEVICE,
                "Ebs": {
                    "DeleteOnTermination": True,
                    "SnapshotId": i.snapshot_id,
                    "VolumeSize": i.root_volume_gib,
                    "VolumeType": "gp3",
                    "Encrypted": False,
                },
            }
        ],
    }


def fields(i: BuiltinImage) -> dict[str, list[str]]:
    shown = image(i)
    ebs = shown["BlockDeviceMappings"][0]["Ebs"]
    plain = {
        "architecture": shown["Architecture"],
        "block-device-mapping.delete-on-termination": ebs["DeleteOnTermination"],
        "block-device-mapping.device-name": ROOT_DEVICE,
        "block-device-mapping.snapshot-id": ebs["SnapshotId"],
        "block-device-mapping.volume-size": ebs["VolumeSize"],
        "block-device-mapping.volume-type": ebs["VolumeType"],
        "block-device-mapping.encrypted": ebs["Encrypted"],
        "boot-mode": shown["BootMode"],
        "creation-date": shown["CreationDate"],
        "description": shown["Description"],
        "ena-support": shown["EnaSupport"],
        "hypervisor": shown["Hypervisor"],
        "image-allowed": True,
        "image-id": shown["ImageId"],
        "image-type": shown["ImageType"],
        "imds-support": shown["ImdsSupport"],
        "is-public": shown["Public"],
        "manifest-location": shown["ImageLocation"],
        "name": shown["Name"],
        "owner-alias": OWNER_ALIAS,
        "owner-id": shown["OwnerId"],
        "platform-details": shown["PlatformDetails"],
        "root-device-name": ROOT_DEVICE,
        "root-device-type": shown["RootDeviceType"],
        "sriov-net-support": shown["SriovNetSupport"],
        "state": shown["State"],
        "usage-operation": shown["UsageOperation"],
        "virtualization-type": shown["VirtualizationType"],
    }
    return {name: [filters.text(value)] for name, value in plain.items()}


def handlers(images: Images) -> dict[str, Handler]:
    def describe_images(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        ids = list(dict.fromkeys(str(i) for i in p.get("ImageIds") or []))
        if ids and p.get("MaxResults") is not None:
            raise InvalidParameterCombination(
                "The parameter ImageIds cannot be used with the parameter MaxResults"
            )
        chosen = images.owned(
            scope,
            [str(o) for o in p.get("Owners") or []],
            [str(u) for u in p.get("ExecutableUsers") or []],
        )
        if ids:
            for image_id in ids:
                checked_id(image_id)
            known = {i.image_id for i in images.all(scope)}
            absent = [i for i in ids if i not in known]
            if absent:
                raise not_found(absent)
            chosen = [i for i in chosen if i.image_id in ids]
        chosen = filters.select(chosen, fields, p.get("Filters"), IMAGE_FILTERS)
        chunk, token = filters.paged(chosen, lambda i: i.image_id, p)
        return filters.with_token({"Images": [image(i) for i in chunk]}, token)

    return {"DescribeImages": describe_images}
