"""Every namespace, service, instance and operation: in memory, written through to the
store."""

from __future__ import annotations

import secrets
import string

from dockyard.core.ids import arn
from dockyard.core.scope import Scope
from dockyard.services.servicediscovery.errors import (
    InstanceNotFound,
    NamespaceNotFound,
    OperationNotFound,
    ServiceNotFound,
)
from dockyard.services.servicediscovery.model import Instance, Namespace, Operation, SdService
from dockyard.store.base import Store
from dockyard.store.undo import put_record

NAMESPACE_KIND = "servicediscovery.namespace"
SERVICE_KIND = "servicediscovery.service"
INSTANCE_KIND = "servicediscovery.instance"
OPERATION_KIND = "servicediscovery.operation"
SERVICE = "servicediscovery"
_ALPHABET = string.ascii_lowercase + string.digits


def random_id(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def namespace_arn(scope: Scope, namespace_id: str) -> str:
    return arn(SERVICE, scope.region, scope.account_id, f"namespace/{namespace_id}")


def service_arn(scope: Scope, service_id: str) -> str:
    return arn(SERVICE, scope.region, scope.account_id, f"service/{service_id}")


def _id_of(value: str) -> str:
    """The id of a resource given by id or ARN."""
    return value.rsplit("/", 1)[1] if value.startswith("arn:") and "/" in value else value


class Directory:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.namespaces: dict[str, Namespace] = {}  # by id
        self.services: dict[str, SdService] = {}  # by id
        self.instances: dict[str, dict[str, Instance]] = {}  # service id -> instance id ->
        self.operations: dict[str, Operation] = {}

    def load(self) -> None:
        self.reset()
        for _, body in self.store.load(NAMESPACE_KIND):
            ns = Namespace.from_dict(body)
            self.namespaces[ns.id] = ns
        for _, body in self.store.load(SERVICE_KIND):
            svc = SdService.from_dict(body)
            self.services[svc.id] = svc
        for _, body in self.store.load(INSTANCE_KIND):
            inst = Instance.from_dict(body)
            self.instances.setdefault(inst.service_id, {})[inst.id] = inst
        for _, body in self.store.load(OPERATION_KIND):
            op = Operation.from_dict(body)
            self.operations[op.id] = op

    def reset(self) -> None:
        self.namespaces.clear()
        self.services.clear()
        self.instances.clear()
        self.operations.clear()

    # Write-through

    def save_namespace(self, ns: Namespace) -> None:
        put_record(self.store, NAMESPACE_KIND, ns.id, ns, Namespace.from_dict)
        self.namespaces[ns.id] = ns

    def drop_namespace(self, ns: Namespace) -> None:
        self.store.delete(NAMESPACE_KIND, ns.id)
        self.namespaces.pop(ns.id, None)

    def save_service(self, svc: SdService) -> None:
        put_record(self.store, SERVICE_KIND, svc.id, svc, SdService.from_dict)
        self.services[svc.id] = svc

    def drop_service(self, svc: SdService) -> None:
        self.store.delete(SERVICE_KIND, svc.id)
        self.services.pop(svc.id, None)
        self.instances.pop(svc.id, None)

    def save_instance(self, inst: Instance) -> None:
        put_record(
            self.store, INSTANCE_KIND, f"{inst.service_id}/{inst.id}", inst, Instance.from_dict
        )
        self.instances.setdefault(inst.service_id, {})[inst.id] = inst

    def drop_instance(self, inst: Instance) -> None:
        self.store.delete(INSTANCE_KIND, f"{inst.service_id}/{inst.id}")
        self.instances.get(inst.service_id, {}).pop(inst.id, None)

    def save_operation(self, op: Operation) -> None:
        put_record(self.store, OPERATION_KIND, op.id, op, Operation.from_dict)
        self.operations[op.id] = op

    def drop_operation(self, op: Operation) -> None:
        self.store.delete(OPERATION_KIND, op.id)
        self.operations.pop(op.id, None)

    # Lookups (a resource of another account or region is not found)

    def namespace(self, scope: Scope, ref: str) -> Namespace:
        found = self.namespaces.get(_id_of(ref))
        if found is None or Scope(found.account_id, found.region) != scope:
            raise NamespaceNotFound(f"Namespace not found: {ref}")
        return found

    def namespace_by_name(self, scope: Scope, name: str) -> Namespace | None:
        wanted = name.rstrip(".").lower()
        for ns in self.namespaces.values():
            if ns.name == wanted and Scope(ns.account_id, ns.region) == scope:
                return ns
        return None

    def service(self, scope: Scope, ref: str) -> SdService:
        found = self.services.get(_id_of(ref))
        if found is None or Scope(found.account_id, found.region) != scope:
            raise ServiceNotFound(f"Service not found: {ref}")
        return found

    def service_by_name(self, ns: Namespace, name: str) -> SdService | None:
        for svc in self.services.values():
            if svc.namespace_id == ns.id and svc.name.lower() == name.lower():
                return svc
        return None

    def services_of(self, ns: Namespace) -> list[SdService]:
        return sorted(
            (s for s in self.services.values() if s.namespace_id == ns.id), key=lambda s: s.id
        )

    def instances_of(self, svc: SdService) -> list[Instance]:
        return sorted(self.instances.get(svc.id, {}).values(), key=lambda i: i.id)

    def instance(self, svc: SdService, instance_id: str) -> Instance:
        found = self.instances.get(svc.id, {}).get(instance_id)
        if found is None:
            raise InstanceNotFound(f"Instance not found: {instance_id} (service {svc.id})")
        return found

    def operation(self, scope: Scope, operation_id: str) -> Operation:
        found = self.operations.get(operation_id)
        if found is None or Scope(found.account_id, found.region) != scope:
            raise OperationNotFound(f"Operation not found: {operation_id}")
        return found
