"""The ECS-on-EC2 stack of AWS's guides, set up with the AWS CLI only, on micro-hosts.

A VPC with two subnets in two zones, a security group, a launch template of the
ECS-optimized image whose user data names cluster `web` (metadata tokens required, an
instance profile), an Auto Scaling group of two (ELB health checks) whose target group an
ALB forwards to, a capacity provider on it with managed draining as the cluster's default,
and a service spread by zone. Then: HTTP through the ALB answers from both hosts; an instance
refresh at MinHealthyPercentage 50 replaces both hosts while a load generator sees no failed
request; a terminated instance is replaced and the service's tasks come back; inside a host,
IMDSv2 gives the instance id and the role's credentials, and a request without a token
gets 401. Needs a root server (micro-hosts).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import aws_json, make_client, run_aws
from tests.support.loadgen import run_load
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("nsenter") is None, reason="micro-hosts need root"
)

SCALE = 10
BOOT = 120.0
IMAGE_PARAM = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
USER_DATA = "#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\n"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
         "Action": "sts:AssumeRole"}
    ],
}  # fmt: skip


class Stack:
    def __init__(self, server: DockyardProcess) -> None:
        self.server = server
        self.group = "web"
        self.tg = ""
        self.port = 0
        self.zones: list[str] = []
        self.clients: dict[str, Any] = {}

    def cli(self, *args: str) -> Any:
        return aws_json(self.server.endpoint, *args)

    def query(self, service: str, operation: str, **params: Any) -> Any:
        """A read for the test's own waits: boto3, faster than a CLI process per poll."""
        client = self.clients.get(service)
        if client is None:
            client = self.clients[service] = make_client(service, self.server.endpoint)
        return getattr(client, operation)(**params)

    def instances(self) -> list[dict[str, Any]]:
        out = self.query("autoscaling", "describe_auto_scaling_groups",
                         AutoScalingGroupNames=[self.group])  # fmt: skip
        found: list[dict[str, Any]] = out["AutoScalingGroups"][0]["Instances"]
        return found

    def in_service(self) -> set[str]:
        return {i["InstanceId"] for i in self.instances() if i["LifecycleState"] == "InService"}

    def container_instances(self) -> dict[str, dict[str, Any]]:
        """EC2 instance id -> the container instance registered in cluster `web`."""
        arns = self.query("ecs", "list_container_instances", cluster="web",
                          status="ACTIVE")["containerInstanceArns"]  # fmt: skip
        if not arns:
            return {}
        described = self.query("ecs", "describe_container_instances", cluster="web",
                               containerInstances=arns)["containerInstances"]  # fmt: skip
        return {c["ec2InstanceId"]: c for c in described if c["agentConnected"]}

    def healthy_targets(self) -> set[str]:
        out = self.query("elbv2", "describe_target_health", TargetGroupArn=self.tg)
        return {
            d["Target"]["Id"]
            for d in out["TargetHealthDescriptions"]
            if d["TargetHealth"]["State"] == "healthy"
        }

    def running_tasks(self) -> dict[str, str]:
        """Task ARN -> the EC2 instance it runs on, for the service's RUNNING tasks."""
        arns = self.query("ecs", "list_tasks", cluster="web", serviceName="web",
                          desiredStatus="RUNNING")["taskArns"]  # fmt: skip
        if not arns:
            return {}
        tasks = self.query("ecs", "describe_tasks", cluster="web", tasks=arns)["tasks"]
        by_arn = {c["containerInstanceArn"]: iid for iid, c in self.container_instances().items()}
        return {
            t["taskArn"]: by_arn.get(t.get("containerInstanceArn", ""), "")
            for t in tasks
            if t["lastStatus"] == "RUNNING"
        }

    def serving(self) -> bool:
        """Two in-service hosts, each running one of the service's tasks and a healthy
        target."""
        hosts = self.in_service()
        on = set(self.running_tasks().values())
        return len(hosts) == 2 and on == hosts and self.healthy_targets() == hosts

    def finish(self) -> None:
        run_aws(self.server.endpoint, "autoscaling", "delete-auto-scaling-group",
                "--auto-scaling-group-name", self.group, "--force-delete", check=False)  # fmt: skip

        def gone() -> bool:
            reservations = self.cli("ec2", "describe-instances")["Reservations"]
            alive = [i["InstanceId"] for r in reservations for i in r["Instances"]
                     if i["State"]["Name"] != "terminated"]  # fmt: skip
            if alive:
                run_aws(self.server.endpoint, "ec2", "terminate-instances", "--instance-ids",
                        *alive, check=False)  # fmt: skip
            return not alive

        wait_for(gone, BOOT, "every instance to terminate", 0.5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    server = DockyardProcess(
        tmp_path_factory.mktemp("hosts-stack") / "data", "--runtime", "process",
        "--no-local-agent", "--time-scale", str(SCALE),
        # at 10x, a 60 s grace is 6 s of wall time: a busy machine can miss that
        "--agent-grace", "600",
    )  # fmt: skip
    server.start()
    built = Stack(server)
    try:
        build(built)
        yield built
    finally:
        try:
            built.finish()
        finally:
            server.forget_tasks()
            server.stop()


def build(s: Stack) -> None:
    cli = s.cli
    second = random.randint(64, 250)
    cidr = f"10.{second}.0.0/16"
    vpc = cli("ec2", "create-vpc", "--cidr-block", cidr)["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in cli("ec2", "describe-availability-zones")[
        "AvailabilityZones"]][:2]  # fmt: skip
    s.zones = zones
    subnets = [
        cli("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", f"10.{second}.{n + 1}.0/24",
            "--availability-zone", zone)["Subnet"]["SubnetId"]
        for n, zone in enumerate(zones)
    ]  # fmt: skip
    sg = cli("ec2", "create-security-group", "--group-name", "web", "--description", "web hosts",
             "--vpc-id", vpc)["GroupId"]  # fmt: skip
    cli("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp",
        "--port", "8080", "--cidr", cidr)  # fmt: skip

    cli("iam", "create-role", "--role-name", "web-host",
        "--assume-role-policy-document", json.dumps(TRUST))  # fmt: skip
    cli("iam", "create-instance-profile", "--instance-profile-name", "web-host")
    cli("iam", "add-role-to-instance-profile", "--instance-profile-name", "web-host",
        "--role-name", "web-host")  # fmt: skip

    image = cli("ssm", "get-parameter", "--name", IMAGE_PARAM)["Parameter"]["Value"]
    data = {
        "ImageId": image,
        "InstanceType": "t3.small",
        "SecurityGroupIds": [sg],
        "IamInstanceProfile": {"Name": "web-host"},
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
        "UserData": base64.b64encode(USER_DATA.encode()).decode(),
    }
    template = cli("ec2", "create-launch-template", "--launch-template-name", "web",
                   "--launch-template-data", json.dumps(data))["LaunchTemplate"]  # fmt: skip
    cli("ecs", "create-cluster", "--cluster-name", "web")

    s.tg = cli("elbv2", "create-target-group", "--name", "web", "--protocol", "HTTP",
               "--port", "8080", "--vpc-id", vpc, "--target-type", "instance",
               "--health-check-path", "/health", "--health-check-interval-seconds", "30",
               "--health-check-timeout-seconds", "10", "--healthy-threshold-count", "2",
               "--unhealthy-threshold-count", "3")["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    cli("elbv2", "modify-target-group-attributes", "--target-group-arn", s.tg,
        "--attributes", "Key=deregistration_delay.timeout_seconds,Value=10")  # fmt: skip
    lb = cli("elbv2", "create-load-balancer", "--name", "web", "--subnets", *subnets,
             "--security-groups", sg)["LoadBalancers"][0]["LoadBalancerArn"]  # fmt: skip
    s.port = free_port()
    cli("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP",
        "--port", str(s.port),
        "--default-actions", f"Type=forward,TargetGroupArn={s.tg}")  # fmt: skip

    cli("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", s.group,
        "--launch-template", f"LaunchTemplateId={template['LaunchTemplateId']},Version=$Latest",
        "--min-size", "2", "--max-size", "4", "--desired-capacity", "2",
        "--vpc-zone-identifier", ",".join(subnets), "--target-group-arns", s.tg,
        "--health-check-type", "ELB", "--health-check-grace-period", "300")  # fmt: skip
    # ECS drains an instance the group takes out (its terminate hook) before it goes: the
    # service's task moves first, as AWS's guides set it up for rolling instance refreshes.
    group_arn = s.query("autoscaling", "describe_auto_scaling_groups",
                        AutoScalingGroupNames=[s.group])["AutoScalingGroups"][0][
        "AutoScalingGroupARN"]  # fmt: skip
    provider = {"autoScalingGroupArn": group_arn, "managedDraining": "ENABLED",
                "managedScaling": {"status": "DISABLED"},
                "managedTerminationProtection": "DISABLED"}  # fmt: skip
    cli("ecs", "create-capacity-provider", "--name", "web-hosts",
        "--auto-scaling-group-provider", json.dumps(provider))  # fmt: skip
    cli("ecs", "put-cluster-capacity-providers", "--cluster", "web",
        "--capacity-providers", "web-hosts", "--default-capacity-provider-strategy",
        "capacityProvider=web-hosts,weight=1")  # fmt: skip

    script = (
        'd=$(mktemp -d) && hostname > "$d/index.html" && echo ok > "$d/health" '
        '&& exec busybox httpd -f -p 8080 -h "$d"'
    )
    container = {
        "name": "web", "image": "process:/tmp", "essential": True, "memory": 64,
        "entryPoint": ["sh", "-c"], "command": [script],
        "portMappings": [{"containerPort": 8080, "hostPort": 8080}],
    }  # fmt: skip
    cli("ecs", "register-task-definition", "--family", "web", "--network-mode", "host",
        "--container-definitions", json.dumps([container]))  # fmt: skip
    wait_for(lambda: len(s.container_instances()) == 2, BOOT, "two hosts registered in web")

    def draining_hook() -> bool:
        hooks = s.query("autoscaling", "describe_lifecycle_hooks",
                        AutoScalingGroupName=s.group)["LifecycleHooks"]  # fmt: skip
        return [h["LifecycleHookName"] for h in hooks] == ["ecs-managed-draining-termination-hook"]

    wait_for(draining_hook, BOOT, "ECS's draining hook on the group")
    cli("ecs", "create-service", "--cluster", "web", "--service-name", "web",
        "--task-definition", "web", "--desired-count", "2",
        "--placement-strategy", "type=spread,field=attribute:ecs.availability-zone",
        "--load-balancers",
        f"targetGroupArn={s.tg},containerName=web,containerPort=8080",
        "--health-check-grace-period-seconds", "60")  # fmt: skip
    wait_for(s.serving, BOOT, "the service on both hosts behind the ALB")


def get(port: int, path: str = "/") -> tuple[int, bytes]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.status, r.read()


def test_two_hosts_in_two_zones_serve_through_the_alb(stack: Stack) -> None:
    hosts = stack.container_instances()
    zones = {
        iid: next(a["value"] for a in c["attributes"] if a["name"] == "ecs.availability-zone")
        for iid, c in hosts.items()
    }
    assert sorted(zones.values()) == sorted(stack.zones)
    described = stack.cli("ec2", "describe-instances", "--instance-ids", *hosts)["Reservations"]
    ec2_zones = {
        i["InstanceId"]: i["Placement"]["AvailabilityZone"]
        for r in described
        for i in r["Instances"]
    }
    assert ec2_zones == zones
    answers = {get(stack.port)[1].decode().strip() for _ in range(20)}
    private = {i["PrivateDnsName"] for r in described for i in r["Instances"]}
    assert answers == private, (answers, private)  # both hosts answer, each by its hostname


def test_inside_a_host_imdsv2_gives_the_instance_id_and_role_credentials(stack: Stack) -> None:
    iid = sorted(stack.in_service())[0]
    netns = f"/var/run/netns/dyhost-{iid}"

    def curl(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = ["nsenter", f"--net={netns}", "curl", "-s", "-m", "10", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30)

    base = "http://169.254.169.254/latest"
    token = curl("-X", "PUT", f"{base}/api/token",
                 "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60").stdout  # fmt: skip
    assert token
    header = f"X-aws-ec2-metadata-token: {token}"
    assert curl("-H", header, f"{base}/meta-data/instance-id").stdout == iid
    role = curl("-H", header, f"{base}/meta-data/iam/security-credentials/").stdout.strip()
    assert role == "web-host"
    creds = json.loads(curl("-H", header, f"{base}/meta-data/iam/security-credentials/web-host")
                       .stdout)  # fmt: skip
    assert creds["Code"] == "Success" and creds["AccessKeyId"] and creds["Token"]
    # the template requires tokens: IMDSv1 is refused
    status = curl("-o", "/dev/null", "-w", "%{http_code}", f"{base}/meta-data/instance-id")
    assert status.stdout == "401"


@pytest.mark.timeout(900)
def test_instance_refresh_replaces_both_hosts_with_no_failed_request(stack: Stack) -> None:
    before = stack.in_service()

    async def refresh_under_load() -> Any:
        stop = asyncio.Event()
        load = asyncio.create_task(run_load(
            "127.0.0.1", stack.port, paths=["/health"], rate=100, connections=8, stop=stop,
        ))  # fmt: skip
        await asyncio.sleep(1.0)
        refresh = await asyncio.to_thread(
            stack.cli, "autoscaling", "start-instance-refresh",
            "--auto-scaling-group-name", stack.group,
            "--preferences", "MinHealthyPercentage=50,InstanceWarmup=60",
        )  # fmt: skip
        refresh_id = refresh["InstanceRefreshId"]

        def done() -> bool:
            out = stack.query("autoscaling", "describe_instance_refreshes",
                              AutoScalingGroupName=stack.group,
                              InstanceRefreshIds=[refresh_id])  # fmt: skip
            status = out["InstanceRefreshes"][0]["Status"]
            assert status not in ("Failed", "Cancelled", "RollbackSuccessful"), out
            return bool(status == "Successful" and stack.serving())

        await asyncio.to_thread(wait_for, done, 4 * BOOT, "the refresh to complete", 1.0)
        await asyncio.sleep(1.0)
        stop.set()
        return await load

    result = asyncio.run(refresh_under_load())
    print(
        f"instance refresh of 2 hosts: {result.total} requests through the ALB over "
        f"{result.elapsed:.1f}s, {result.failed} failed"
    )
    assert result.total > 0
    assert result.failed == 0, (result.errors[:5], result.statuses)
    assert not stack.in_service() & before  # both hosts were replaced


@pytest.mark.timeout(600)
def test_a_terminated_instance_is_replaced_and_its_tasks_come_back(stack: Stack) -> None:
    wait_for(stack.serving, BOOT, "the service on both hosts")
    victim = sorted(stack.in_service())[0]
    stack.cli("ec2", "terminate-instances", "--instance-ids", victim)

    def replaced() -> bool:
        hosts = stack.in_service()
        return victim not in hosts and stack.serving()

    wait_for(replaced, 2 * BOOT, "a replacement host running the service's task", 1.0)
    service = stack.cli("ecs", "describe-services", "--cluster", "web",
                        "--services", "web")["services"][0]  # fmt: skip
    assert service["runningCount"] == 2
    activities = stack.cli("autoscaling", "describe-scaling-activities",
                           "--auto-scaling-group-name", stack.group)["Activities"]  # fmt: skip
    assert any(victim in a["Description"] for a in activities)
