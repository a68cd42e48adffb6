"""AWS Cloud Map: namespaces, services and instances, the DNS names they make, and the
`ServiceRegistries` port through which ECS services register their tasks.

`CloudMap(store, clock)`: state lives in a `Directory` written through to the store. Every
change is done when the call returns, so its operation is SUCCESS from the start. The DNS
server reads the directory through `lookup(name)` (see `dns_names`).
"""

from __future__ import annotations

import logging
from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.discovery import NameRecords, Registry
from dockyard.core.scope import Scope
from dockyard.services.servicediscovery import validation
from dockyard.services.servicediscovery.directory import (
    Directory,
    namespace_arn,
    random_id,
    service_arn,
)
from dockyard.services.servicediscovery.dns_names import lookup as dns_lookup
from dockyard.services.servicediscovery.errors import (
    CustomHealthNotFound,
    InvalidInput,
    NamespaceAlreadyExists,
    NamespaceNotFound,
    ResourceInUse,
    ServiceAlreadyExists,
    ServiceNotFound,
)
from dockyard.services.servicediscovery.model import (
    INIT_HEALTH,
    DnsRecord,
    HealthStatus,
    Instance,
    Namespace,
    NamespaceType,
    Operation,
    OperationStatus,
    OperationType,
    SdService,
    ServiceType,
)
from dockyard.store.base import Store

log = logging.getLogger(__name__)

DEFAULT_SOA_TTL = 15
MAX_OPERATIONS = 5000  # the oldest operations are let go beyond this many


def scope_of_arn(value: str) -> Scope | None:
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "servicediscovery":
        return None
    return Scope(parts[4], parts[3])


class CloudMap:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.directory = Directory(store)

    def load(self) -> None:
        self.directory.load()

    def reset(self) -> None:
        self.directory.reset()

    # Operations

    def _operation(self, scope: Scope, op_type: str, **targets: str) -> Operation:
        now = self.clock.now()
        op = Operation(
            id=f"{random_id(32)}-{random_id(8)}",
            type=op_type,
            status=OperationStatus.SUCCESS,
            account_id=scope.account_id,
            region=scope.region,
            created=now,
            updated=now,
            targets=dict(targets),
        )
        self.directory.save_operation(op)
        ops = self.directory.operations
        if len(ops) > MAX_OPERATIONS:
            for old in sorted(ops.values(), key=lambda o: o.created)[: len(ops) - MAX_OPERATIONS]:
                self.directory.drop_operation(old)
        return op

    # Namespaces

    def create_namespace(
        self,
        scope: Scope,
        name: str,
        ns_type: str,
        *,
        description: str | None = None,
        creator_request_id: str | None = None,
        vpc: str | None = None,
        soa_ttl: int | None = None,
        tags: dict[str, str] | None = None,
    ) -> Operation:
        if ns_type == NamespaceType.DNS_PRIVATE:
            name = validation.dns_name(name)
        elif not name or name.startswith("arn:"):
            raise InvalidInput(f"Name is not a valid namespace name ({name!r})")
        existing = self.directory.namespace_by_name(scope, name)
        if existing is not None:
            if creator_request_id and existing.creator_request_id == creator_request_id:
                for op in self.directory.operations.values():
                    if op.type == OperationType.CREATE_NAMESPACE and (
                        op.targets.get("NAMESPACE") == existing.id
                    ):
                        return op
            raise NamespaceAlreadyExists(f"Namespace {name} already exists: {existing.id}")
        ns_id = f"ns-{random_id(16)}"
        ns = Namespace(
            id=ns_id,
            arn=namespace_arn(scope, ns_id),
            name=name,
            type=ns_type,
            account_id=scope.account_id,
            region=scope.region,
            created=self.clock.now(),
            description=description,
            creator_request_id=creator_request_id,
            vpc=vpc,
            tags=dict(tags or {}),
        )
        if ns.is_dns:
            ns.hosted_zone_id = "Z" + random_id(20).upper()
            ns.soa_ttl = DEFAULT_SOA_TTL if soa_ttl is None else soa_ttl
        self.directory.save_namespace(ns)
        log.info("cloud map: created namespace %s", name, extra={"namespace": ns.arn})
        return self._operation(scope, OperationType.CREATE_NAMESPACE, NAMESPACE=ns.id)

    def update_namespace(
        self, scope: Scope, ref: str, description: str | None, soa_ttl: int | None
    ) -> Operation:
        ns = self.directory.namespace(scope, ref)
        if description is not None:
            ns.description = description
        if soa_ttl is not None:
            if not ns.is_dns:
                raise InvalidInput("An HTTP namespace has no SOA record")
            ns.soa_ttl = soa_ttl
        self.directory.save_namespace(ns)
        return self._operation(scope, OperationType.UPDATE_NAMESPACE, NAMESPACE=ns.id)

    def delete_namespace(self, scope: Scope, ref: str) -> Operation:
        ns = self.directory.namespace(scope, ref)
        if self.directory.services_of(ns):
            raise ResourceInUse(f"Namespace {ns.id} still has services; delete them first")
        self.directory.drop_namespace(ns)
        return self._operation(scope, OperationType.DELETE_NAMESPACE, NAMESPACE=ns.id)

    # Services

    def create_service(
        self,
        scope: Scope,
        name: str,
        namespace_ref: str | None,
        *,
        dns_config: dict[str, Any] | None = None,
        health_check: dict[str, Any] | None = None,
        custom_health: dict[str, Any] | None = None,
        description: str | None = None,
        creator_request_id: str | None = None,
        http_only: bool = False,
        tags: dict[str, str] | None = None,
    ) -> SdService:
        ref = namespace_ref or (dns_config or {}).get("NamespaceId")
        if not ref:
            raise InvalidInput("NamespaceId is required")
        ns = self.directory.namespace(scope, ref)
        name = validation.service_name(name)
        existing = self.directory.service_by_name(ns, name)
        if existing is not None:
            if creator_request_id and existing.creator_request_id == creator_request_id:
                return existing
            raise ServiceAlreadyExists(f"Service {name} already exists: {existing.id}")
        if health_check is not None:
            raise InvalidInput(
                "Route 53 health checks (HealthCheckConfig) are for public DNS namespaces, "
                "which Dockyard does not serve; use HealthCheckCustomConfig"
            )
        if custom_health and custom_health.get("FailureThreshold") not in (None, 1):
            custom_health = {"FailureThreshold": 1}  # AWS ignores it and answers 1
        policy: str | None = None
        records: list[DnsRecord] = []
        if dns_config is not None:
            if not ns.is_dns:
                raise InvalidInput("An HTTP namespace's services take no DnsConfig")
            if http_only:
                raise InvalidInput("A service of Type HTTP takes no DnsConfig")
            policy, records = validation.dns_config(dns_config, health_check)
        elif ns.is_dns and not http_only:
            raise InvalidInput(
                "DnsConfig is required for a service in a DNS namespace (or give Type HTTP)"
            )
        service_id = f"srv-{random_id(16)}"
        svc = SdService(
            id=service_id,
            arn=service_arn(scope, service_id),
            name=name,
            namespace_id=ns.id,
            account_id=scope.account_id,
            region=scope.region,
            created=self.clock.now(),
            type=ServiceType.DNS_HTTP if records else ServiceType.HTTP,
            description=description,
            creator_request_id=creator_request_id,
            routing_policy=policy,
            dns_records=records,
            custom_health=dict(custom_health) if custom_health is not None else None,
            tags=dict(tags or {}),
        )
        self.directory.save_service(svc)
        log.info("cloud map: created service %s.%s", name, ns.name, extra={"service": svc.arn})
        return svc

    def update_service(
        self,
        scope: Scope,
        ref: str,
        *,
        description: str | None,
        records: list[DnsRecord] | None,
        health_check: dict[str, Any] | None,
    ) -> Operation:
        svc = self.directory.service(scope, ref)
        if health_check is not None:
            raise InvalidInput(
                "Route 53 health checks (HealthCheckConfig) are for public DNS namespaces, "
                "which Dockyard does not serve"
            )
        if records is not None:
            if not svc.dns_records:
                raise InvalidInput("The service has no DNS records to update (DnsConfig)")
            if {r.type for r in records} != svc.record_types:
                raise InvalidInput(
                    "UpdateService changes the TTL of the service's records; their types "
                    f"({', '.join(sorted(svc.record_types))}) cannot change"
                )
            svc.dns_records = records
        if description is not None:
            svc.description = description
        self.directory.save_service(svc)
        return self._operation(scope, OperationType.UPDATE_SERVICE, SERVICE=svc.id)

    def delete_service(self, scope: Scope, ref: str) -> None:
        svc = self.directory.service(scope, ref)
        if self.directory.instances_of(svc):
            raise ResourceInUse(f"Service {svc.id} still has registered instances")
        self.directory.drop_service(svc)

    def service_count(self, ns: Namespace) -> int:
        return len(self.directory.services_of(ns))

    # Instances

    def register_instance(
        self,
        scope: Scope,
        service_ref: str,
        instance_id: str,
        attributes: dict[str, str],
        *,
        creator_request_id: str | None = None,
        owner: str | None = None,
    ) -> Operation:
        svc = self.directory.service(scope, service_ref)
        instance_id = validation.instance_id(instance_id)
        attributes = validation.attributes(svc, attributes)
        existing = self.directory.instances.get(svc.id, {}).get(instance_id)
        health = None
        if svc.custom_health is not None:
            init = attributes.get(INIT_HEALTH)
            health = init or (existing.health if existing else None) or HealthStatus.HEALTHY
        inst = Instance(
            id=instance_id,
            service_id=svc.id,
            attributes=attributes,
            created=existing.created if existing else self.clock.now(),
            creator_request_id=creator_request_id,
            health=health,
            owner=owner if owner is not None else (existing.owner if existing else None),
        )
        self.directory.save_instance(inst)
        self._bump(svc)
        return self._operation(
            scope, OperationType.REGISTER_INSTANCE,
            NAMESPACE=svc.namespace_id, SERVICE=svc.id, INSTANCE=instance_id,
        )  # fmt: skip

    def deregister_instance(self, scope: Scope, service_ref: str, instance_id: str) -> Operation:
        svc = self.directory.service(scope, service_ref)
        inst = self.directory.instance(svc, instance_id)
        self.directory.drop_instance(inst)
        self._bump(svc)
        return self._operation(
            scope, OperationType.DEREGISTER_INSTANCE,
            NAMESPACE=svc.namespace_id, SERVICE=svc.id, INSTANCE=instance_id,
        )  # fmt: skip

    def _bump(self, svc: SdService) -> None:
        svc.revision += 1
        self.directory.save_service(svc)

    def health_of(self, svc: SdService, inst: Instance) -> str:
        if svc.custom_health is None:
            return HealthStatus.UNKNOWN
        return inst.health or HealthStatus.HEALTHY

    def set_custom_health(self, scope: Scope, service_ref: str, instance_id: str,
                          status: str) -> None:  # fmt: skip
        svc = self.directory.service(scope, service_ref)
        inst = self.directory.instance(svc, instance_id)
        if svc.custom_health is None:
            raise CustomHealthNotFound(
                f"Service {svc.id} has no custom health check (HealthCheckCustomConfig)"
            )
        if status not in (HealthStatus.HEALTHY, HealthStatus.UNHEALTHY):
            raise InvalidInput(f"Status must be HEALTHY or UNHEALTHY ({status})")
        if inst.health != status:
            inst.health = status
            self.directory.save_instance(inst)
            self._bump(svc)

    def discover(
        self,
        scope: Scope,
        namespace_name: str,
        service_name: str,
        *,
        health: str | None,
        query: dict[str, str],
        optional: dict[str, str],
    ) -> tuple[SdService, list[tuple[Instance, str]]]:
        ns = self.directory.namespace_by_name(scope, namespace_name)
        if ns is None:
            raise NamespaceNotFound(f"Namespace not found: {namespace_name}")
        svc = self.directory.service_by_name(ns, service_name)
        if svc is None:
            raise ServiceNotFound(f"Service not found: {service_name} in {namespace_name}")
        found = [(i, self.health_of(svc, i)) for i in self.directory.instances_of(svc)]
        found = [(i, h) for i, h in found if all(i.attributes.get(k) == v for k, v in
                                                  query.items())]  # fmt: skip
        if optional:
            narrowed = [(i, h) for i, h in found
                        if all(i.attributes.get(k) == v for k, v in optional.items())]  # fmt: skip
            found = narrowed or found
        if svc.custom_health is not None:
            wanted = health or "HEALTHY"
            healthy = [(i, h) for i, h in found if h == HealthStatus.HEALTHY]
            if wanted == "HEALTHY":
                found = healthy
            elif wanted == "UNHEALTHY":
                found = [(i, h) for i, h in found if h == HealthStatus.UNHEALTHY]
            elif wanted == "HEALTHY_OR_ELSE_ALL":
                found = healthy or found
        return svc, found

    # DNS (the data plane's DnsDirectory)

    def lookup(self, name: str) -> NameRecords | None:
        return dns_lookup(self.directory, name)

    # ServiceRegistries (ECS)

    def registry(self, account_id: str, region: str, registry_arn: str) -> Registry | None:
        svc = self.directory.services.get(registry_arn.rsplit("/", 1)[-1])
        if svc is None or svc.arn != registry_arn or (svc.account_id, svc.region) != (
            account_id, region
        ):  # fmt: skip
            return None
        ns = self.directory.namespaces.get(svc.namespace_id)
        return Registry(
            arn=svc.arn,
            namespace_arn=ns.arn if ns else "",
            record_types=svc.record_types,
            custom_health=svc.custom_health is not None,
        )

    def namespace_arn(self, account_id: str, region: str, ref: str) -> str | None:
        scope = Scope(account_id, region)
        try:
            return self.directory.namespace(scope, ref).arn
        except NamespaceNotFound:
            found = self.directory.namespace_by_name(scope, ref)
            return found.arn if found else None

    def register(
        self, registry_arn: str, instance_id: str, attributes: dict[str, str], owner: str
    ) -> None:
        scope = scope_of_arn(registry_arn)
        if scope is None:
            raise ServiceNotFound(f"Service not found: {registry_arn}")
        self.register_instance(scope, registry_arn, instance_id, attributes, owner=owner)

    def deregister(self, registry_arn: str, instance_id: str) -> None:
        svc = self.directory.services.get(registry_arn.rsplit("/", 1)[-1])
        if svc is None or instance_id not in self.directory.instances.get(svc.id, {}):
            return
        self.deregister_instance(Scope(svc.account_id, svc.region), svc.id, instance_id)

    def owned(self, owner: str) -> dict[tuple[str, str], dict[str, str]]:
        out: dict[tuple[str, str], dict[str, str]] = {}
        for service_id, instances in self.directory.instances.items():
            svc = self.directory.services.get(service_id)
            if svc is None:
                continue
            for inst in instances.values():
                if inst.owner == owner:
                    out[(svc.arn, inst.id)] = dict(inst.attributes)
        return out

    def owners(self) -> set[str]:
        return {
            inst.owner
            for instances in self.directory.instances.values()
            for inst in instances.values()
            if inst.owner
        }
