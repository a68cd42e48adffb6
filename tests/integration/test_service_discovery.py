"""ECS service discovery that really resolves: a Cloud Map private DNS namespace, an ECS
service whose tasks register in it, and real DNS queries to the server's DNS port, through
scaling, a kill -9 of the server and the deletion of the service."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from botocore.exceptions import ClientError
from dnslib import QTYPE, RCODE, DNSRecord

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

CLUSTER = "discovery"
HOSTS = ("127.0.0.1", "127.0.0.2")  # two container instances: host-mode tasks share a port
T = TypeVar("T")


class Fleet:
    def __init__(self, server: DockyardProcess, dns_port: int) -> None:
        self.server = server
        self.dns_port = dns_port

    def ecs(self) -> Any:
        return make_client("ecs", self.server.endpoint)

    def sd(self) -> Any:
        # DiscoverInstances is sent to data-<host> unless the SDK is told not to.
        return make_client("servicediscovery", self.server.endpoint, inject_host_prefix=False)

    def query(self, name: str, qtype: str, tcp: bool = False) -> DNSRecord:
        raw = DNSRecord.question(name, qtype).send("127.0.0.1", self.dns_port, tcp=tcp, timeout=3)
        return DNSRecord.parse(raw)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    base = tmp_path_factory.mktemp("discovery")
    dns_port = free_port()
    server = DockyardProcess(
        base / "server", "--runtime", "process", "--no-local-agent", "--time-scale", "10",
        "--dns-port", str(dns_port),
    )  # fmt: skip
    server.start()
    agents: list[subprocess.Popen[bytes]] = []
    try:
        ecs = make_client("ecs", server.endpoint)
        ecs.create_cluster(clusterName=CLUSTER)
        for i, host_ip in enumerate(HOSTS):
            log = open(base / f"agent-{i}.log", "ab")  # noqa: SIM115 - owned by the child
            agents.append(subprocess.Popen(
                [sys.executable, "-m", "dockyard", "agent", "--server", server.endpoint,
                 "--cluster", CLUSTER, "--data-dir", str(base / f"agent-{i}"),
                 "--runtime", "process", "--host-ip", host_ip, "--time-scale", "10"],
                stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
            log.close()

        def connected() -> int:
            arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
            if not arns:
                return 0
            found = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)
            return sum(1 for ci in found["containerInstances"] if ci["agentConnected"])

        wait_for(lambda: connected() == 2, 30, "two agents", every=0.2)
        yield Fleet(server, dns_port)
    finally:
        try:
            ecs = make_client("ecs", server.endpoint)
            for arn in ecs.list_services(cluster=CLUSTER)["serviceArns"]:
                ecs.delete_service(cluster=CLUSTER, service=arn, force=True)
            for arn in ecs.list_tasks(cluster=CLUSTER)["taskArns"]:
                ecs.stop_task(cluster=CLUSTER, task=arn)
            wait_for(
                lambda: not ecs.list_tasks(cluster=CLUSTER)["taskArns"],
                30,
                "tasks stopped",
                every=0.2,
            )
        except Exception:
            pass  # best effort; the agents go below
        for agent in agents:
            agent.terminate()
            agent.wait(timeout=30)
        server.stop()


def srv_records(fleet: Fleet, name: str) -> list[tuple[int, str]] | None:
    """(port, target) of each SRV record of `name`; None when the name does not exist."""
    reply = fleet.query(name, "SRV")
    if reply.header.rcode == RCODE.NXDOMAIN:
        return None
    assert reply.header.rcode == RCODE.NOERROR, reply
    return sorted(
        (rr.rdata.port, str(rr.rdata.target).rstrip("."))
        for rr in reply.rr
        if rr.rtype == QTYPE.SRV
    )


def n_srv_records(fleet: Fleet, count: int) -> list[tuple[int, str]] | None:
    found = srv_records(fleet, "web.corp.test")
    return found if found is not None and len(found) == count else None


def a_records(fleet: Fleet, name: str) -> list[str]:
    reply = fleet.query(name, "A")
    return sorted(str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A)


def running_task_ids(ecs: Any, service: str) -> set[str]:
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=service, desiredStatus="RUNNING")
    if not arns["taskArns"]:
        return set()
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns["taskArns"])["tasks"]
    return {t["taskArn"].rsplit("/", 1)[1] for t in tasks if t["lastStatus"] == "RUNNING"}


def n_running_tasks(ecs: Any, count: int) -> set[str] | None:
    found = running_task_ids(ecs, "web")
    return found if len(found) == count else None


def test_ecs_service_tasks_resolve_through_dns(fleet: Fleet, tmp_path: Path) -> None:
    ecs, sd = fleet.ecs(), fleet.sd()
    # A private DNS namespace; its creation is an operation that is SUCCESS once it is done.
    op_id = sd.create_private_dns_namespace(Name="corp.test", Vpc="vpc-dockyard")["OperationId"]
    operation = sd.get_operation(OperationId=op_id)["Operation"]
    assert operation["Status"] == "SUCCESS" and operation["Type"] == "CREATE_NAMESPACE"
    namespace_id = operation["Targets"]["NAMESPACE"]
    namespace = sd.get_namespace(Id=namespace_id)["Namespace"]
    assert namespace["Type"] == "DNS_PRIVATE" and namespace["Name"] == "corp.test"
    soa = fleet.query("corp.test", "SOA")
    assert soa.header.rcode == RCODE.NOERROR and soa.header.aa == 1
    assert fleet.query("example.com", "A").header.rcode == RCODE.REFUSED

    registry = sd.create_service(
        Name="web",
        NamespaceId=namespace_id,
        DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "SRV", "TTL": 7}]},
    )["Service"]
    a_only = sd.create_service(
        Name="web-a", NamespaceId=namespace_id,
        DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 60}]},
    )["Service"]  # fmt: skip
    port = free_port()
    taskdef = ecs.register_task_definition(
        family="discovered",
        networkMode="host",
        containerDefinitions=[{
            "name": "app", "image": "process:/tmp", "essential": True, "memory": 32,
            "entryPoint": ["sh", "-c"], "command": ["sleep 3600"],
            "portMappings": [{"containerPort": port, "protocol": "tcp"}],
        }],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip

    # As in ECS: the host network mode supports SRV records only, and needs the container port.
    with pytest.raises(ClientError) as refused:
        ecs.create_service(
            cluster=CLUSTER, serviceName="nope", taskDefinition=taskdef, desiredCount=1,
            serviceRegistries=[{"registryArn": a_only["Arn"], "containerName": "app",
                                "containerPort": port}],
        )  # fmt: skip
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as refused:
        ecs.create_service(
            cluster=CLUSTER, serviceName="nope", taskDefinition=taskdef, desiredCount=1,
            serviceRegistries=[{"registryArn": registry["Arn"]}],
        )  # fmt: skip
    assert "containerName" in refused.value.response["Error"]["Message"]
    sd.delete_service(Id=a_only["Id"])

    service = ecs.create_service(
        cluster=CLUSTER, serviceName="web", taskDefinition=taskdef, desiredCount=2,
        serviceRegistries=[{"registryArn": registry["Arn"], "containerName": "app",
                            "containerPort": port}],
    )["service"]  # fmt: skip
    assert service["serviceRegistries"][0]["registryArn"] == registry["Arn"]
    listed = ecs.list_services_by_namespace(namespace="corp.test")["serviceArns"]
    assert listed == [service["serviceArn"]]

    # Both tasks answer, each under its task id, at its host's address and the port.
    records = wait_for(lambda: n_srv_records(fleet, 2), 60, "2 SRV records", every=0.2)
    task_ids = running_task_ids(ecs, "web")
    assert {target for _, target in records} == {f"{t}.web.corp.test" for t in task_ids}
    assert {p for p, _ in records} == {port}
    addresses = sorted(a for _, target in records for a in a_records(fleet, target))
    assert addresses == sorted(HOSTS)
    reply = fleet.query("web.corp.test", "SRV", tcp=True)
    assert len(reply.rr) == 2 and all(rr.ttl == 7 for rr in reply.rr)
    assert fleet.query("nothing.corp.test", "A").header.rcode == RCODE.NXDOMAIN

    discovered = sd.discover_instances(NamespaceName="corp.test", ServiceName="web")["Instances"]
    assert {i["InstanceId"] for i in discovered} == task_ids
    assert all(i["Attributes"]["AWS_INSTANCE_PORT"] == str(port) for i in discovered)
    assert {i["Attributes"]["AWS_INSTANCE_IPV4"] for i in discovered} == set(HOSTS)
    assert {i["Attributes"]["ECS_SERVICE_NAME"] for i in discovered} == {"web"}

    # kill -9: namespaces, services and instances are still there, and still resolve.
    fleet.server.kill()
    fleet.server.start()
    sd, ecs = fleet.sd(), fleet.ecs()
    assert sd.get_namespace(Id=namespace_id)["Namespace"]["ServiceCount"] == 1
    assert sd.get_service(Id=registry["Id"])["Service"]["InstanceCount"] == 2
    assert {i["Id"] for i in sd.list_instances(ServiceId=registry["Id"])["Instances"]} == task_ids
    assert len(srv_records(fleet, "web.corp.test") or []) == 2

    # Scaling in deregisters the task that stops.
    ecs.update_service(cluster=CLUSTER, service="web", desiredCount=1)
    one = wait_for(lambda: n_srv_records(fleet, 1), 60, "1 SRV record", every=0.2)
    kept = wait_for(lambda: n_running_tasks(ecs, 1), 60, "1 running task", every=0.2)
    assert one[0][1] == f"{next(iter(kept))}.web.corp.test"
    discovered = sd.discover_instances(NamespaceName="corp.test", ServiceName="web")["Instances"]
    assert {i["InstanceId"] for i in discovered} == kept

    # Deleting the ECS service empties the Cloud Map service: the name no longer exists.
    ecs.delete_service(cluster=CLUSTER, service="web", force=True)
    wait_for(
        lambda: srv_records(fleet, "web.corp.test") is None or None, 60, "no records", every=0.2
    )
    assert sd.discover_instances(NamespaceName="corp.test", ServiceName="web")["Instances"] == []
    assert sd.list_instances(ServiceId=registry["Id"])["Instances"] == []
    with pytest.raises(ClientError) as in_use:
        sd.delete_namespace(Id=namespace_id)
    assert in_use.value.response["Error"]["Code"] == "ResourceInUse"
    sd.delete_service(Id=registry["Id"])
    gone = sd.delete_namespace(Id=namespace_id)["OperationId"]
    assert sd.get_operation(OperationId=gone)["Operation"]["Status"] == "SUCCESS"
    assert fleet.query("web.corp.test", "SRV").header.rcode == RCODE.REFUSED
