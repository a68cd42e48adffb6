"""Tasks and container instances in ECS's output shapes, and their state-change events."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from dockyard.core import timefmt
from dockyard.core.ids import new_uuid
from dockyard.core.taskspec import NetworkBinding
from dockyard.services.ecs.instances.domain import ContainerInstance
from dockyard.services.ecs.tags import tags_to_wire
from dockyard.services.ecs.tasks.model import NetworkAttachment, Task, TaskContainer

_TASK_TIMES = {
    "createdAt": "created_at",
    "pullStartedAt": "pull_started_at",
    "pullStoppedAt": "pull_stopped_at",
    "startedAt": "started_at",
    "connectivityAt": "connectivity_at",
    "stoppingAt": "stopping_at",
    "stoppedAt": "stopped_at",
    "executionStoppedAt": "execution_stopped_at",
}


def binding_to_wire(b: NetworkBinding) -> dict[str, Any]:
    return {
        "bindIP": b.bind_ip,
        "containerPort": b.container_port,
        "hostPort": b.host_port,
        "protocol": b.protocol,
    }


def container_to_wire(task: Task, tc: TaskContainer) -> dict[str, Any]:
    out: dict[str, Any] = {
        "containerArn": tc.arn,
        "taskArn": task.arn,
        "name": tc.name,
        "image": tc.image,
        "lastStatus": tc.last_status,
        "networkBindings": [binding_to_wire(b) for b in tc.network_bindings],
        "networkInterfaces": [],
        "healthStatus": tc.health_status,
        "cpu": str(tc.cpu),
    }
    if tc.runtime_id:
        out["runtimeId"] = tc.runtime_id
    if tc.exit_code is not None:
        out["exitCode"] = tc.exit_code
    if tc.reason:
        out["reason"] = tc.reason
    if tc.memory is not None:
        out["memory"] = str(tc.memory)
    if tc.memory_reservation is not None:
        out["memoryReservation"] = str(tc.memory_reservation)
    eni = task.attachment
    if eni is not None:
        iface: dict[str, Any] = {"attachmentId": eni.id}
        if eni.private_ip:
            iface["privateIpv4Address"] = eni.private_ip
        out["networkInterfaces"] = [iface]
    return out


def attachment_to_wire(eni: NetworkAttachment) -> dict[str, Any]:
    details = [
        ("subnetId", eni.subnet_id),
        ("networkInterfaceId", eni.eni_id),
        ("macAddress", eni.mac_address),
    ]
    if eni.private_ip:
        details.append(("privateIPv4Address", eni.private_ip))
    return {
        "id": eni.id,
        "type": "ElasticNetworkInterface",
        "status": eni.status,
        "details": [{"name": n, "value": v} for n, v in details],
    }


def task_to_wire(task: Task, include_tags: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "taskArn": task.arn,
        "clusterArn": task.cluster_arn,
        "taskDefinitionArn": task.task_definition_arn,
        "lastStatus": task.last_status,
        "desiredStatus": task.desired_status,
        "healthStatus": task.health_status,
        "launchType": task.launch_type,
        "cpu": str(task.cpu),
        "memory": str(task.memory),
        "group": task.group,
        "version": task.version,
        "availabilityZone": task.availability_zone,
        "containers": [container_to_wire(task, tc) for tc in task.containers],
        "attachments": [attachment_to_wire(task.attachment)] if task.attachment else [],
        "overrides": {
            "containerOverrides": task.overrides.get("containerOverrides")
            or [{"name": c.name} for c in task.containers],
            "inferenceAcceleratorOverrides": [],
            **{k: v for k, v in task.overrides.items() if k != "containerOverrides"},
        },
        "enableExecuteCommand": False,
        "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
    }
    if task.launch_type != "FARGATE" and task.host_arn:  # "": waiting for capacity
        out["containerInstanceArn"] = task.host_arn
    for wire_name, attr in _TASK_TIMES.items():
        value = getattr(task, attr)
        if value is not None:
            out[wire_name] = value
    for wire_name, value in (
        ("startedBy", task.started_by),
        ("stopCode", task.stop_code),
        ("stoppedReason", task.stopped_reason),
        ("connectivity", task.connectivity),
        ("capacityProviderName", task.capacity_provider_name),
        ("platformVersion", task.platform_version),
        ("platformFamily", task.platform_family),
    ):
        if value is not None:
            out[wire_name] = value
    if include_tags:
        out["tags"] = tags_to_wire(task.tags)
    return out


def _iso(seconds: float) -> str:
    return timefmt.iso(seconds)


def _jsonable_times(value: Any, keys: set[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: _iso(v) if k in keys and isinstance(v, float | int) else _jsonable_times(v, keys)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_jsonable_times(v, keys) for v in value]
    return value


def state_change_event(
    detail_type: str, resource_arn: str, detail: dict[str, Any], now: float
) -> dict[str, Any]:
    """An EventBridge event as ECS sends it (`ECS Task State Change`, ...)."""
    _, _, _, region, account, _ = resource_arn.split(":", 5)
    times = {*_TASK_TIMES, "registeredAt", "updatedAt"}
    return {
        "version": "0",
        "id": new_uuid(),
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": account,
        "time": _iso(now).replace(".000Z", "Z"),
        "region": region,
        "resources": [resource_arn],
        "detail": _jsonable_times({**detail, "updatedAt": now}, times),
    }


def resource(name: str, value: int | list[str]) -> dict[str, Any]:
    if isinstance(value, list):
        return {
            "name": name, "type": "STRINGSET", "doubleValue": 0.0, "longValue": 0,
            "integerValue": 0, "stringSetValue": value,
        }  # fmt: skip
    return {
        "name": name, "type": "INTEGER", "doubleValue": 0.0, "longValue": 0,
        "integerValue": value,
    }  # fmt: skip


def instance_to_wire(
    instance: ContainerInstance,
    *,
    remaining_cpu: int,
    remaining_memory: int,
    used_ports: set[tuple[int, str]],
    running: int,
    pending: int,
    include: Collection[str] = (),
) -> dict[str, Any]:
    tcp = sorted({*instance.reserved_ports, *(p for p, proto in used_ports if proto == "tcp")})
    udp = sorted({*instance.reserved_udp_ports, *(p for p, proto in used_ports if proto == "udp")})
    out: dict[str, Any] = {
        "containerInstanceArn": instance.arn,
        "ec2InstanceId": instance.ec2_instance_id,
        "version": instance.version,
        "versionInfo": {
            "agentVersion": instance.agent_version,
            "agentHash": instance.agent_hash,
            "dockerVersion": instance.docker_version,
        },
        "registeredResources": [
            resource("CPU", instance.cpu),
            resource("MEMORY", instance.memory),
            resource("PORTS", [str(p) for p in sorted(instance.reserved_ports)]),
            resource("PORTS_UDP", [str(p) for p in sorted(instance.reserved_udp_ports)]),
        ],
        "remainingResources": [
            resource("CPU", remaining_cpu),
            resource("MEMORY", remaining_memory),
            resource("PORTS", [str(p) for p in tcp]),
            resource("PORTS_UDP", [str(p) for p in udp]),
        ],
        "status": instance.status,
        "agentConnected": instance.agent_connected,
        "runningTasksCount": running,
        "pendingTasksCount": pending,
        "attributes": [
            {"name": k, **({"value": v} if v is not None else {})}
            for k, v in sorted(instance.attributes.items())
        ],
        "registeredAt": instance.registered_at,
        "attachments": [],
    }
    if instance.status_reason:
        out["statusReason"] = instance.status_reason
    if instance.capacity_provider_name:
        out["capacityProviderName"] = instance.capacity_provider_name
    if "TAGS" in include:
        out["tags"] = tags_to_wire(instance.tags)
    if "CONTAINER_INSTANCE_HEALTH" in include:
        overall = "OK" if instance.agent_connected else "INSUFFICIENT_DATA"
        out["healthStatus"] = {
            "overallStatus": overall,
            "details": [
                {
                    "type": "CONTAINER_RUNTIME",
                    "status": overall,
                    "lastUpdated": instance.health_changed_at,
                    "lastStatusChange": instance.health_changed_at,
                }
            ],
        }
    return out
