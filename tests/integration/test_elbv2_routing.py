"""Load balancers that really route: boto3 configures them, real HTTP goes through them."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.http_backend import Backend
from tests.support.loadgen import run_load
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

SCALE = 10  # the server's clock runs 10x: a 5 s health-check interval takes 0.5 s


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(
        tmp_path_factory.mktemp("elb") / "data", "--runtime", "process", "--time-scale", str(SCALE)
    )
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def elb(server: DockyardProcess) -> Any:
    return make_client("elbv2", server.endpoint)


@pytest.fixture
def backends() -> Iterator[Callable[[str], Backend]]:
    started: list[Backend] = []

    def start(name: str) -> Backend:
        backend = Backend(name).start()
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.stop()


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


class Lab:
    """One ALB with its target groups, made through the API as a user would."""

    def __init__(self, elb: Any, name: str) -> None:
        self.elb = elb
        self.name = name
        self.lb = elb.create_load_balancer(Name=name, Subnets=["subnet-a", "subnet-b"])[
            "LoadBalancers"
        ][0]
        self.port = free_port()

    def group(self, name: str, *targets: Backend, **settings: Any) -> str:
        arn: str = self.elb.create_target_group(
            Name=f"{self.name}-{name}", Protocol="HTTP", Port=80, VpcId="vpc-1",
            TargetType="ip", HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
            HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
            **settings,
        )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
        self.elb.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}],
        )
        if targets:
            self.register(arn, *targets)
        return arn

    def register(self, arn: str, *targets: Backend) -> None:
        self.elb.register_targets(
            TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": t.port} for t in targets]
        )

    def listen(self, actions: list[dict[str, Any]]) -> str:
        arn: str = self.elb.create_listener(
            LoadBalancerArn=self.lb["LoadBalancerArn"], Port=self.port, Protocol="HTTP",
            DefaultActions=actions,
        )["Listeners"][0]["ListenerArn"]  # fmt: skip
        return arn

    def states(self, arn: str) -> dict[int, str]:
        out = self.elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        return {d["Target"]["Port"]: d["TargetHealth"]["State"] for d in out}

    def wait_healthy(self, arn: str, count: int) -> None:
        wait_for(
            lambda: list(self.states(arn).values()).count("healthy") == count,
            what=f"{count} healthy targets",
        )


def forward(*groups: tuple[str, int]) -> list[dict[str, Any]]:
    return [{
        "Type": "forward",
        "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in groups]},
    }]  # fmt: skip


def test_path_rules_send_requests_to_the_right_service(elb: Any, backends: Any) -> None:
    lab = Lab(elb, "paths")
    orders = lab.group("orders", backends("orders-1"), backends("orders-2"))
    users = lab.group("users", backends("users-1"))
    listener = lab.listen([{
        "Type": "fixed-response",
        "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain",
                                "MessageBody": "no route"},
    }])  # fmt: skip
    elb.create_rule(
        ListenerArn=listener, Priority=10,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/orders*"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": orders}],
    )  # fmt: skip
    elb.create_rule(
        ListenerArn=listener, Priority=20,
        Conditions=[{"Field": "path-pattern", "Values": ["/users/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": users}],
    )  # fmt: skip
    lab.wait_healthy(orders, 2)
    lab.wait_healthy(users, 1)

    seen: dict[str, set[str]] = {"/orders/1": set(), "/users/7": set()}
    for _ in range(6):
        for path, names in seen.items():
            status, _, body = get(lab.port, path)
            assert status == 200
            names.add(body.decode().split()[0])
    assert seen == {"/orders/1": {"orders-1", "orders-2"}, "/users/7": {"users-1"}}
    status, headers, body = get(lab.port, "/nothing")
    assert (status, body, headers["content-type"]) == (404, b"no route", "text/plain")

    # A rule's priority and its conditions change; the next request sees the change.
    rules = elb.describe_rules(ListenerArn=listener)["Rules"]
    assert [r["Priority"] for r in rules] == ["10", "20", "default"]
    users_rule = rules[1]["RuleArn"]
    elb.modify_rule(
        RuleArn=users_rule,
        Conditions=[{"Field": "http-header", "HttpHeaderConfig": {
            "HttpHeaderName": "X-Team", "Values": ["blue*"]}}],
    )  # fmt: skip
    elb.set_rule_priorities(RulePriorities=[{"RuleArn": users_rule, "Priority": 5}])
    assert get(lab.port, "/orders/1", **{"X-Team": "Bluebird"})[2].startswith(b"users-1")
    assert get(lab.port, "/orders/1")[2].startswith(b"orders-")


def test_weighted_forward_80_20_over_2000_requests(elb: Any, backends: Any) -> None:
    lab = Lab(elb, "weights")
    blue = lab.group("blue", backends("blue"))
    green = lab.group("green", backends("green"))
    lab.listen(forward((blue, 80), (green, 20)))
    lab.wait_healthy(blue, 1)
    lab.wait_healthy(green, 1)
    result = asyncio.run(run_load("127.0.0.1", lab.port, requests=2000, connections=8))
    print(f"80/20 forward over {result.total} requests: {dict(result.bodies)}")
    assert result.failed == 0
    assert abs(result.bodies["blue"] / 2000 - 0.80) <= 0.05
    assert abs(result.bodies["green"] / 2000 - 0.20) <= 0.05


def test_weights_100_0_to_0_100_under_load_fail_no_request(elb: Any, backends: Any) -> None:
    lab = Lab(elb, "shift")
    blue = lab.group("blue", backends("blue-1"), backends("blue-2"))
    green = lab.group("green", backends("green-1"), backends("green-2"))
    listener = lab.listen(forward((blue, 100), (green, 0)))
    lab.wait_healthy(blue, 2)
    lab.wait_healthy(green, 2)

    async def scenario() -> Any:
        stop = asyncio.Event()
        load = asyncio.create_task(
            run_load("127.0.0.1", lab.port, rate=300, connections=12, stop=stop)
        )
        await asyncio.sleep(1.0)
        for weights in ((75, 25), (50, 50), (25, 75), (0, 100)):
            await asyncio.to_thread(
                elb.modify_listener, ListenerArn=listener,
                DefaultActions=forward((blue, weights[0]), (green, weights[1])),
            )  # fmt: skip
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)
        stop.set()
        return await load

    result = asyncio.run(scenario())
    rps = result.total / result.elapsed
    print(f"weight shift: {result.total} requests at {rps:.0f}/s, {result.failed} failed, "
          f"{dict(result.bodies)}")  # fmt: skip
    assert result.failed == 0, result.errors[:5] or result.statuses
    after = [get(lab.port, "/")[2].split()[0] for _ in range(10)]
    assert all(name.startswith(b"green") for name in after)


def test_unhealthy_target_leaves_rotation_then_503_then_502(elb: Any, backends: Any) -> None:
    lab = Lab(elb, "health")
    good, sick = backends("good"), backends("sick")
    group = lab.group("app", good, sick)
    listener = lab.listen([{"Type": "forward", "TargetGroupArn": group}])
    lab.wait_healthy(group, 2)

    sick.health_status = 500
    wait_for(lambda: lab.states(group)[sick.port] == "unhealthy", what="sick target unhealthy")
    health = elb.describe_target_health(
        TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": sick.port}]
    )["TargetHealthDescriptions"][0]["TargetHealth"]
    assert health == {
        "State": "unhealthy",
        "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [500]",
    }
    names = {get(lab.port, "/")[2].split()[0] for _ in range(10)}
    assert names == {b"good"}

    good.health_status = 503
    wait_for(lambda: lab.states(group)[good.port] == "unhealthy", what="no healthy target")
    # Every registered target failed its health checks: ELB fails open and routes to all.
    names = {get(lab.port, "/")[2].split()[0] for _ in range(10)}
    assert names == {b"good", b"sick"}
    # No target that could take the request (none registered, or none checked yet): 503.
    empty = lab.group("empty")
    elb.modify_listener(
        ListenerArn=listener, DefaultActions=[{"Type": "forward", "TargetGroupArn": empty}]
    )
    status, headers, _ = get(lab.port, "/")
    assert (status, headers["server"]) == (503, "awselb/2.0")
    unchecked = backends("unchecked")
    unchecked.health_status = 500  # fails its first check: `initial` for 2 x 300 s
    elb.modify_target_group(TargetGroupArn=empty, HealthCheckIntervalSeconds=300)
    lab.register(empty, unchecked)
    assert lab.states(empty) == {unchecked.port: "initial"}
    assert get(lab.port, "/")[0] == 503
    elb.modify_listener(
        ListenerArn=listener, DefaultActions=[{"Type": "forward", "TargetGroupArn": group}]
    )

    good.health_status = 200
    lab.wait_healthy(group, 1)
    good.stop()  # the process behind a healthy target dies
    assert get(lab.port, "/")[0] == 502
    wait_for(lambda: lab.states(group)[good.port] == "unhealthy", what="dead target out")
    health = elb.describe_target_health(
        TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": good.port}]
    )["TargetHealthDescriptions"][0]["TargetHealth"]
    assert health["Reason"] == "Target.FailedHealthChecks"


def test_slow_target_answers_504_after_the_idle_timeout(elb: Any, backends: Any) -> None:
    lab = Lab(elb, "slow")
    group = lab.group("app", backends("slow"))
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=lab.lb["LoadBalancerArn"],
        Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "1"}],
    )
    lab.listen([{"Type": "forward", "TargetGroupArn": group}])
    lab.wait_healthy(group, 1)
    # The target would answer 200 after 5 s: the 504 comes from the 1 s idle timeout.
    assert get(lab.port, "/?sleep=5")[0] == 504


def test_draining_target_finishes_in_flight_requests_then_leaves(elb: Any, backends: Any) -> None:
    lab = Lab(elb, "drain")
    old, new = backends("old"), backends("new")
    group = lab.group("app", old)
    lab.listen([{"Type": "forward", "TargetGroupArn": group}])
    lab.wait_healthy(group, 1)

    async def scenario() -> tuple[Any, list[str]]:
        slow = asyncio.create_task(asyncio.to_thread(get, lab.port, "/?sleep=0.6"))
        await asyncio.sleep(0.2)  # the slow request is in flight on `old`
        await asyncio.to_thread(lab.register, group, new)
        await asyncio.to_thread(lab.wait_healthy, group, 2)
        await asyncio.to_thread(
            elb.deregister_targets, TargetGroupArn=group,
            Targets=[{"Id": "127.0.0.1", "Port": old.port}],
        )  # fmt: skip
        states = await asyncio.to_thread(lab.states, group)
        after = [await asyncio.to_thread(get, lab.port, "/") for _ in range(5)]
        return await slow, [states[old.port], *(r[2].split()[0].decode() for r in after)]

    slow_result, seen = asyncio.run(scenario())
    assert slow_result[0] == 200 and slow_result[2].startswith(b"old")
    assert seen == ["draining", "new", "new", "new", "new", "new"]
    wait_for(lambda: old.port not in lab.states(group), what="drained target removed")


def test_forwarded_headers_fixed_response_and_redirect(elb: Any, backends: Any) -> None:
    lab = Lab(elb, "hdrs")
    group = lab.group("app", backends("echo"))
    listener = lab.listen([{"Type": "forward", "TargetGroupArn": group}])
    elb.create_rule(
        ListenerArn=listener, Priority=1,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["old.example.*"]}}],
        Actions=[{"Type": "redirect", "RedirectConfig": {
            "Host": "new.example.com", "Protocol": "HTTPS", "Port": "443",
            "StatusCode": "HTTP_301"}}],
    )  # fmt: skip
    elb.create_rule(
        ListenerArn=listener, Priority=2,
        Conditions=[
            {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}},
            {"Field": "query-string", "QueryStringConfig": {"Values": [
                {"Key": "maintenance", "Value": "on"}]}},
        ],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "503", "ContentType": "application/json",
            "MessageBody": '{"down": true}'}}],
    )  # fmt: skip
    lab.wait_healthy(group, 1)

    status, _, body = get(lab.port, "/echo", **{"X-Forwarded-For": "10.1.2.3"})
    doc = json.loads(body)
    assert status == 200
    assert doc["headers"]["x-forwarded-for"] == "10.1.2.3, 127.0.0.1"
    assert doc["headers"]["x-forwarded-proto"] == "http"
    assert doc["headers"]["x-forwarded-port"] == str(lab.port)
    assert doc["headers"]["x-amzn-trace-id"].startswith("Root=1-")

    status, headers, _ = get(lab.port, "/a/b?x=1", Host="old.example.org")
    assert status == 301
    assert headers["location"] == "https://new.example.com/a/b?x=1"

    status, headers, body = get(lab.port, "/?maintenance=ON")
    assert (status, headers["content-type"], body) == (503, "application/json", b'{"down": true}')


def test_https_listener_with_certificate_files(elb: Any, backends: Any, tmp_path: Path) -> None:
    import ssl
    import subprocess

    cert, key = tmp_path / "lb.pem", tmp_path / "lb.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=lb.local", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    lab = Lab(elb, "tls")
    group = lab.group("app", backends("secure"))
    with pytest.raises(elb.exceptions.CertificateNotFoundException):
        elb.create_listener(
            LoadBalancerArn=lab.lb["LoadBalancerArn"], Port=lab.port, Protocol="HTTPS",
            Certificates=[{"CertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/x"}],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )  # fmt: skip
    elb.create_listener(
        LoadBalancerArn=lab.lb["LoadBalancerArn"], Port=lab.port, Protocol="HTTPS",
        Certificates=[{"CertificateArn": f"file://{cert}"}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )  # fmt: skip
    lab.wait_healthy(group, 1)
    ctx = ssl.create_default_context(cafile=str(cert))
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", lab.port, context=ctx, timeout=10)
    conn.request("GET", "/echo")
    doc = json.loads(conn.getresponse().read())
    conn.close()
    assert doc["name"] == "secure"
    assert doc["headers"]["x-forwarded-proto"] == "https"
