"""The Cloud Map domain: namespaces, services and instances with AWS's error codes, health
and discovery filters, the DNS names a namespace holds, the ECS port, and reload from the
store."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.servicediscovery import CloudMap
from dockyard.store import SqliteStore

SCOPE = Scope("000000000000", "us-east-1")


@pytest.fixture
def cm() -> CloudMap:
    return CloudMap(SqliteStore(":memory:"), ManualClock())


def namespace(cm: CloudMap, name: str = "corp.local") -> str:
    op = cm.create_namespace(SCOPE, name, "DNS_PRIVATE", vpc="vpc-1")
    assert op.status == "SUCCESS" and op.type == "CREATE_NAMESPACE"
    return op.targets["NAMESPACE"]


def service(cm: CloudMap, ns_id: str, records: list[dict[str, Any]], **kw: Any) -> Any:
    return cm.create_service(
        SCOPE, kw.pop("name", "web"), ns_id, dns_config={"DnsRecords": records}, **kw
    )


def code(exc: pytest.ExceptionInfo[ServiceError]) -> str:
    return exc.value.code


def test_namespace_names_are_domain_names_and_unique(cm: CloudMap) -> None:
    ns_id = namespace(cm, "Corp.Local.")
    assert cm.directory.namespaces[ns_id].name == "corp.local"
    assert cm.directory.namespaces[ns_id].soa_ttl == 15
    with pytest.raises(ServiceError) as exc:
        namespace(cm, "corp.local")
    assert code(exc) == "NamespaceAlreadyExists"
    with pytest.raises(ServiceError) as exc:
        namespace(cm, "bad..name")
    assert code(exc) == "InvalidInput"


def test_services_need_dns_config_in_dns_namespaces(cm: CloudMap) -> None:
    ns_id = namespace(cm)
    with pytest.raises(ServiceError) as exc:
        cm.create_service(SCOPE, "web", ns_id)
    assert code(exc) == "InvalidInput"
    with pytest.raises(ServiceError) as exc:
        service(cm, ns_id, [{"Type": "CNAME", "TTL": 5}, {"Type": "A", "TTL": 5}])
    assert code(exc) == "InvalidInput"
    with pytest.raises(ServiceError) as exc:
        service(cm, ns_id, [{"Type": "A", "TTL": 5}], health_check={"Type": "HTTP"})
    assert code(exc) == "InvalidInput" and "public" in exc.value.message
    svc = service(cm, ns_id, [{"Type": "A", "TTL": 5}, {"Type": "SRV", "TTL": 9}])
    assert svc.type == "DNS_HTTP" and svc.routing_policy == "MULTIVALUE"
    assert cm.create_service(SCOPE, "api", ns_id, http_only=True).type == "HTTP"
    with pytest.raises(ServiceError) as exc:
        service(cm, ns_id, [{"Type": "A", "TTL": 5}])
    assert code(exc) == "ServiceAlreadyExists"
    with pytest.raises(ServiceError) as exc:
        cm.delete_namespace(SCOPE, ns_id)
    assert code(exc) == "ResourceInUse"
    with pytest.raises(ServiceError) as exc:
        cm.create_service(SCOPE, "x", "ns-missing", dns_config={"DnsRecords": []})
    assert code(exc) == "NamespaceNotFound"


def test_register_checks_attributes_against_the_records(cm: CloudMap) -> None:
    svc = service(cm, namespace(cm), [{"Type": "A", "TTL": 5}, {"Type": "SRV", "TTL": 9}])
    for attributes in (
        {"AWS_INSTANCE_PORT": "80"},  # no address for the A record
        {"AWS_INSTANCE_IPV4": "10.0.0.1"},  # no port for the SRV record
        {"AWS_INSTANCE_IPV4": "10.0.0.300", "AWS_INSTANCE_PORT": "80"},
        {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "0"},
        {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80",
         "AWS_INIT_HEALTH_STATUS": "HEALTHY"},  # no custom health check
    ):  # fmt: skip
        with pytest.raises(ServiceError) as exc:
            cm.register_instance(SCOPE, svc.id, "i-1", attributes)
        assert code(exc) == "InvalidInput", attributes
    op = cm.register_instance(
        SCOPE, svc.arn, "i-1", {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80"}
    )
    assert op.type == "REGISTER_INSTANCE" and op.targets["INSTANCE"] == "i-1"
    with pytest.raises(ServiceError) as exc:
        cm.deregister_instance(SCOPE, svc.id, "i-2")
    assert code(exc) == "InstanceNotFound"
    with pytest.raises(ServiceError) as exc:
        cm.delete_service(SCOPE, svc.id)
    assert code(exc) == "ResourceInUse"


def test_discovery_filters_by_health_and_attributes(cm: CloudMap) -> None:
    svc = service(cm, namespace(cm), [{"Type": "A", "TTL": 5}], custom_health={})
    for n, color in ((1, "blue"), (2, "green"), (3, "green")):
        attrs = {"AWS_INSTANCE_IPV4": f"10.0.0.{n}", "color": color}
        cm.register_instance(SCOPE, svc.id, f"i-{n}", attrs)
    cm.set_custom_health(SCOPE, svc.id, "i-3", "UNHEALTHY")

    def ids(**kw: Any) -> list[str]:
        kw.setdefault("query", {})
        kw.setdefault("optional", {})
        _, found = cm.discover(SCOPE, "corp.local", "web", **kw)
        return [i.id for i, _ in found]

    assert ids(health=None) == ["i-1", "i-2"]
    assert ids(health="ALL") == ["i-1", "i-2", "i-3"]
    assert ids(health="UNHEALTHY") == ["i-3"]
    assert ids(health="ALL", query={"color": "green"}) == ["i-2", "i-3"]
    assert ids(health="ALL", optional={"color": "red"}) == ["i-1", "i-2", "i-3"]
    assert ids(health="ALL", optional={"color": "blue"}) == ["i-1"]
    cm.set_custom_health(SCOPE, svc.id, "i-1", "UNHEALTHY")
    cm.set_custom_health(SCOPE, svc.id, "i-2", "UNHEALTHY")
    assert ids(health="HEALTHY") == []
    assert ids(health="HEALTHY_OR_ELSE_ALL") == ["i-1", "i-2", "i-3"]
    plain = service(cm, svc.namespace_id, [{"Type": "A", "TTL": 5}], name="plain")
    cm.register_instance(SCOPE, plain.id, "p", {"AWS_INSTANCE_IPV4": "10.0.1.1"})
    with pytest.raises(ServiceError) as exc:
        cm.set_custom_health(SCOPE, plain.id, "p", "HEALTHY")
    assert code(exc) == "CustomHealthNotFound"
    assert cm.health_of(plain, cm.directory.instance(plain, "p")) == "UNKNOWN"


def test_dns_names_of_a_namespace(cm: CloudMap) -> None:
    ns_id = namespace(cm)
    svc = service(cm, ns_id, [{"Type": "A", "TTL": 30}, {"Type": "SRV", "TTL": 20}],
                  custom_health={})  # fmt: skip
    assert cm.lookup("example.com") is None
    assert cm.lookup("corp.local") is not None and cm.lookup("corp.local").exists  # type: ignore[union-attr]
    empty = cm.lookup("web.corp.local")
    assert empty is not None and not empty.exists  # no instances: no records
    cm.register_instance(SCOPE, svc.id, "t1", {"AWS_INSTANCE_IPV4": "10.0.0.1",
                                               "AWS_INSTANCE_PORT": "8080"})  # fmt: skip
    cm.register_instance(SCOPE, svc.id, "t2", {"AWS_INSTANCE_IPV4": "10.0.0.2",
                                               "AWS_INSTANCE_PORT": "8081"})  # fmt: skip
    found = cm.lookup("WEB.corp.local.")
    assert found is not None and sorted(found.a) == ["10.0.0.1", "10.0.0.2"]
    assert sorted((s.port, s.target) for s in found.srv) == [
        (8080, "t1.web.corp.local"),
        (8081, "t2.web.corp.local"),
    ]
    assert found.ttl == {"A": 30, "SRV": 20}
    host = cm.lookup("t2.web.corp.local")
    assert host is not None and host.a == ("10.0.0.2",)
    missing = cm.lookup("other.corp.local")
    assert missing is not None and not missing.exists
    # Unhealthy instances leave the answer, unless none is healthy (Route 53 fails open).
    cm.set_custom_health(SCOPE, svc.id, "t1", "UNHEALTHY")
    assert cm.lookup("web.corp.local").a == ("10.0.0.2",)  # type: ignore[union-attr]
    cm.set_custom_health(SCOPE, svc.id, "t2", "UNHEALTHY")
    assert len(cm.lookup("web.corp.local").a) == 2  # type: ignore[union-attr]


def test_the_ecs_port_registers_on_behalf_of_an_owner(cm: CloudMap) -> None:
    ns_id = namespace(cm)
    svc = service(cm, ns_id, [{"Type": "SRV", "TTL": 5}])
    registry = cm.registry(SCOPE.account_id, SCOPE.region, svc.arn)
    assert registry is not None and registry.record_types == frozenset({"SRV"})
    assert cm.registry("111111111111", SCOPE.region, svc.arn) is None
    assert cm.namespace_arn(SCOPE.account_id, SCOPE.region, "corp.local") == registry.namespace_arn
    attrs = {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80"}
    cm.register(svc.arn, "task-1", attrs, "ecs-service-arn")
    assert cm.owned("ecs-service-arn") == {(svc.arn, "task-1"): attrs}
    assert cm.owners() == {"ecs-service-arn"}
    cm.deregister(svc.arn, "task-1")
    cm.deregister(svc.arn, "task-1")  # nothing left: nothing to do
    assert cm.owned("ecs-service-arn") == {}


def test_state_survives_a_reload(cm: CloudMap) -> None:
    ns_id = namespace(cm)
    svc = service(cm, ns_id, [{"Type": "A", "TTL": 5}], custom_health={})
    cm.register_instance(SCOPE, svc.id, "i-1", {"AWS_INSTANCE_IPV4": "10.0.0.1"})
    cm.set_custom_health(SCOPE, svc.id, "i-1", "UNHEALTHY")
    again = CloudMap(cm.store, ManualClock())
    again.load()
    assert again.directory.namespace(SCOPE, ns_id).name == "corp.local"
    reloaded = again.directory.service(SCOPE, svc.id)
    assert reloaded.dns_records[0].ttl == 5
    assert again.directory.instance(reloaded, "i-1").health == "UNHEALTHY"
    assert len(again.directory.operations) == len(cm.directory.operations)
