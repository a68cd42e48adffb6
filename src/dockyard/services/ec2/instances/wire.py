"""Instances as EC2's output shapes (`Reservation`, `Instance`, `InstanceStatus`,
`InstanceStateChange`) and the fields DescribeInstances filters on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dockyard.services.ec2.filters import Fields, tag_fields
from dockyard.services.ec2.instances.instances import private_dns
from dockyard.services.ec2.instances.model import (
    REASON_MESSAGES,
    Instance,
    InstanceState,
    state_code,
)
from dockyard.services.ec2.tags import to_wire


def state(s: InstanceState) -> dict[str, Any]:
    return {"Code": state_code(s), "Name": s.value}


def change(before: Instance, after: Instance) -> dict[str, Any]:
    return {
        "InstanceId": after.id,
        "CurrentState": state(after.state),
        "PreviousState": state(before.state),
    }


def instance(i: Instance) -> dict[str, Any]:
    dns = private_dns(i.region, i.private_ip)
    groups = [{"GroupId": g} for g in i.group_ids]
    out: dict[str, Any] = {
        "InstanceId": i.id,
        "ImageId": i.image_id,
        "InstanceType": i.instance_type,
        "AmiLaunchIndex": i.launch_index,
        "LaunchTime": i.launch_time,
        "Placement": {"AvailabilityZone": i.zone, "Tenancy": "default", "GroupName": ""},
        "Monitoring": {"State": "disabled"},
        "State": state(i.state),
        "StateTransitionReason": i.transition_reason,
        "Architecture": "x86_64",
        "RootDeviceType": "ebs",
        "RootDeviceName": "/dev/xvda",
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "EbsOptimized": False,
        "EnaSupport": True,
        "SourceDestCheck": True,
        "SecurityGroups": groups,
        "Tags": to_wire(i.tags),
        "MetadataOptions": {"State": "applied", **i.metadata},
        "ClientToken": "",
    }
    if i.state != InstanceState.TERMINATED:
        out |= {
            "PrivateIpAddress": i.private_ip,
            "PrivateDnsName": dns,
            "SubnetId": i.subnet_id,
            "VpcId": i.vpc_id,
            "NetworkInterfaces": [
                {
                    "NetworkInterfaceId": i.interface_id,
                    "SubnetId": i.subnet_id,
                    "VpcId": i.vpc_id,
                    "OwnerId": i.account_id,
                    "MacAddress": i.mac,
                    "PrivateIpAddress": i.private_ip,
                    "PrivateDnsName": dns,
                    "Status": "in-use",
                    "SourceDestCheck": True,
                    "InterfaceType": "interface",
                    "Groups": groups,
                    "Attachment": {
                        "AttachmentId": "eni-attach-" + i.interface_id.removeprefix("eni-"),
                        "DeviceIndex": 0,
                        "Status": "attached",
                        "AttachTime": i.launch_time,
                        "DeleteOnTermination": True,
                    },
                    "PrivateIpAddresses": [
                        {"Primary": True, "PrivateIpAddress": i.private_ip, "PrivateDnsName": dns}
                    ],
                }
            ],
        }
    else:
        out["PrivateDnsName"] = ""
    if i.key_name:
        out["KeyName"] = i.key_name
    if i.iam_profile:
        out["IamInstanceProfile"] = {"Arn": i.iam_profile}
        if i.iam_profile_id:
            out["IamInstanceProfile"]["Id"] = i.iam_profile_id
    if i.state_reason is not None:
        message = REASON_MESSAGES[i.state_reason]
        if i.reason_detail:
            message = f"{message}: {i.reason_detail}"
        out["StateReason"] = {"Code": i.state_reason, "Message": message}
    return out


def reservation(instances: Sequence[Instance]) -> dict[str, Any]:
    first = instances[0]
    return {
        "ReservationId": first.reservation_id,
        "OwnerId": first.account_id,
        "RequesterId": first.requester or first.account_id,
        "Groups": [],
        "Instances": [instance(i) for i in instances],
    }


def status(i: Instance, initializing: bool) -> dict[str, Any]:
    check = "initializing" if initializing else "ok"
    detail = "initializing" if initializing else "passed"
    summary = {"Status": check, "Details": [{"Name": "reachability", "Status": detail}]}
    return {
        "InstanceId": i.id,
        "AvailabilityZone": i.zone,
        "InstanceState": state(i.state),
        "SystemStatus": summary,
        "InstanceStatus": summary,
    }


def association_id(i: Instance) -> str:
    """The id of an instance's profile association (one an instance, made at launch)."""
    return "iip-assoc-" + i.id.removeprefix("i-")


def association(i: Instance) -> dict[str, Any]:
    profile: dict[str, Any] = {"Arn": i.iam_profile}
    if i.iam_profile_id:
        profile["Id"] = i.iam_profile_id
    return {
        "AssociationId": association_id(i),
        "InstanceId": i.id,
        "IamInstanceProfile": profile,
        "State": "associated",
        "Timestamp": i.launch_time,
    }


def association_fields(i: Instance) -> Fields:
    return {"instance-id": [i.id], "state": ["associated"]}


INSTANCE_FILTERS = (
    "instance-id",
    "instance-state-name",
    "instance-state-code",
    "instance-type",
    "image-id",
    "subnet-id",
    "vpc-id",
    "availability-zone",
    "private-ip-address",
    "private-dns-name",
    "reservation-id",
    "key-name",
    "instance.group-id",
    "network-interface.mac-address",
)


def fields(i: Instance) -> Fields:
    return {
        "instance-id": [i.id],
        "instance-state-name": [i.state.value],
        "instance-state-code": [str(state_code(i.state))],
        "instance-type": [i.instance_type],
        "image-id": [i.image_id],
        "subnet-id": [i.subnet_id],
        "vpc-id": [i.vpc_id],
        "availability-zone": [i.zone],
        "private-ip-address": [i.private_ip],
        "private-dns-name": [private_dns(i.region, i.private_ip)],
        "reservation-id": [i.reservation_id],
        "key-name": [i.key_name or ""],
        "instance.group-id": list(i.group_ids),
        "network-interface.mac-address": [i.mac],
        **tag_fields(i.tags),
    }
