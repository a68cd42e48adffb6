"""The DNS names a private DNS namespace holds, as Route 53 would hold them for Cloud Map.

For a service `web` with DNS records in namespace `corp.local`:
- `web.corp.local` has one A/AAAA record per instance's AWS_INSTANCE_IPV4/IPV6, and with an
  SRV record `1 1 <AWS_INSTANCE_PORT> <instance-id>.web.corp.local`;
- with an SRV record, `<instance-id>.web.corp.local` has the instance's A/AAAA records.
The answer holds healthy instances only (every instance when none is healthy: Route 53 fails
open); MULTIVALUE answers up to 8 of them, WEIGHTED one picked at random. A service without
instances has no records: its name does not exist.
"""

from __future__ import annotations

import random

from dockyard.core.discovery import NameRecords, Srv
from dockyard.services.servicediscovery.directory import Directory
from dockyard.services.servicediscovery.model import (
    CNAME,
    IPV4,
    IPV6,
    PORT,
    HealthStatus,
    Instance,
    Namespace,
    NamespaceType,
    RecordType,
    RoutingPolicy,
    SdService,
)

MULTIVALUE_MAX = 8


def zone_of(directory: Directory, name: str) -> Namespace | None:
    """The private DNS namespace holding `name` (the longest match; the oldest on a tie)."""
    best: Namespace | None = None
    for ns in directory.namespaces.values():
        if ns.type != NamespaceType.DNS_PRIVATE:
            continue
        if name != ns.name and not name.endswith("." + ns.name):
            continue
        if (
            best is None
            or len(ns.name) > len(best.name)
            or (ns.name == best.name and ns.created < best.created)
        ):
            best = ns
    return best


def answering(svc: SdService, instances: list[Instance]) -> list[Instance]:
    """The instances a query for the service's name is answered with."""
    if svc.custom_health is not None:
        healthy = [i for i in instances if (i.health or HealthStatus.HEALTHY) == "HEALTHY"]
        instances = healthy or instances
    if svc.routing_policy == RoutingPolicy.WEIGHTED:
        return [random.choice(instances)] if instances else []
    if len(instances) > MULTIVALUE_MAX:
        return random.sample(instances, MULTIVALUE_MAX)
    return list(instances)


def _ttls(svc: SdService) -> dict[str, int]:
    return {r.type: r.ttl for r in svc.dns_records}


def _addresses(instances: list[Instance], key: str) -> tuple[str, ...]:
    return tuple(i.attributes[key] for i in instances if i.attributes.get(key))


def service_records(svc: SdService, ns: Namespace, instances: list[Instance]) -> NameRecords:
    chosen = answering(svc, instances)
    types = svc.record_types
    soa = ns.soa_ttl or 0
    a = _addresses(chosen, IPV4) if RecordType.A in types else ()
    aaaa = _addresses(chosen, IPV6) if RecordType.AAAA in types else ()
    srv: tuple[Srv, ...] = ()
    if RecordType.SRV in types:
        srv = tuple(
            Srv(1, 1, int(i.attributes[PORT]), f"{i.id}.{svc.name}.{ns.name}".lower())
            for i in chosen
            if i.attributes.get(PORT, "").isdigit()
        )
    cname = None
    if RecordType.CNAME in types and chosen:
        cname = chosen[0].attributes.get(CNAME)
    exists = bool(a or aaaa or srv or cname)
    return NameRecords(ns.name, soa, exists, a, aaaa, srv, cname, _ttls(svc))


def lookup(directory: Directory, name: str) -> NameRecords | None:
    name = name.rstrip(".").lower()
    ns = zone_of(directory, name)
    if ns is None:
        return None
    soa = ns.soa_ttl or 0
    if name == ns.name:
        return NameRecords(ns.name, soa, True)
    relative = name[: -len(ns.name) - 1]
    empty_non_terminal = False
    for svc in directory.services_of(ns):
        if not svc.dns_records:
            continue
        svc_name = svc.name.lower()
        instances = directory.instances_of(svc)
        if relative == svc_name:
            return service_records(svc, ns, instances)
        if RecordType.SRV in svc.record_types and relative.endswith("." + svc_name):
            instance_id = relative[: -len(svc_name) - 1]
            for inst in instances:
                if inst.id.lower() == instance_id:
                    a = (inst.attributes[IPV4],) if inst.attributes.get(IPV4) else ()
                    aaaa = (inst.attributes[IPV6],) if inst.attributes.get(IPV6) else ()
                    ttls = _ttls(svc)
                    ttl = {"A": ttls.get("SRV", 0), "AAAA": ttls.get("SRV", 0), **ttls}
                    return NameRecords(ns.name, soa, bool(a or aaaa), a, aaaa, ttl=ttl)
        if instances and svc_name.endswith("." + relative):
            empty_non_terminal = True
    return NameRecords(ns.name, soa, empty_non_terminal)
