"""Load balancers beyond one HTTP request: an NLB forwarding raw TCP, metrics that reach
CloudWatch, and a server killed with SIGKILL that comes back with its load balancers,
listeners (listening again), target groups and targets."""

from __future__ import annotations

import datetime as dt
import signal
import socket
import socketserver
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import make_client
from tests.support.http_backend import Backend
from tests.support.server import DockyardProcess, free_port
from tests.support.waiting import wait_for

SCALE = 20  # the server's clock runs 20x: the 60 s metrics period passes in 3 s


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockyardProcess]:
    proc = DockyardProcess(
        tmp_path_factory.mktemp("elb-life") / "data", "--runtime", "process",
        "--time-scale", str(SCALE),
    )  # fmt: skip
    proc.start()
    yield proc
    proc.stop()


class EchoHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        name: bytes = self.server.name  # type: ignore[attr-defined]
        for line in self.rfile:
            self.wfile.write(name + b":" + line)


class EchoServer(socketserver.ThreadingTCPServer):
    """A TCP (not HTTP) backend: every line comes back prefixed with the server's name."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.name = name.encode()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def healthy_count(elb: Any, tg: str) -> int:
    out = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    return sum(1 for d in out if d["TargetHealth"]["State"] == "healthy")


def http_get(port: int, path: str = "/") -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def alb_to(elb: Any, name: str, backend: Backend) -> tuple[str, str, int, str]:
    """An ALB whose HTTP listener (on a free port) forwards to an ip target group holding
    `backend`, health-checked on /health every 5 s: (LB ARN, TG ARN, port, listener ARN)."""
    lb_arn: str = elb.create_load_balancer(Name=name, Subnets=["subnet-a", "subnet-b"])[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    tg: str = elb.create_target_group(
        Name=name, Protocol="HTTP", Port=80, VpcId="vpc-1", TargetType="ip",
        HealthCheckPath="/health", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1", "Port": backend.port}])
    port = free_port()
    listener_arn: str = elb.create_listener(
        LoadBalancerArn=lb_arn, Port=port, Protocol="HTTP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )["Listeners"][0]["ListenerArn"]  # fmt: skip
    return lb_arn, tg, port, listener_arn


def test_nlb_tcp_listener_forwards_raw_tcp_to_healthy_targets(server: DockyardProcess) -> None:
    elb = make_client("elbv2", server.endpoint)
    name = f"nlb-{uuid.uuid4().hex[:6]}"
    a, b = EchoServer("a"), EchoServer("b")
    try:
        lb = elb.create_load_balancer(Name=name, Type="network", Subnets=["subnet-a"])
        lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
        assert lb["LoadBalancers"][0]["Type"] == "network"
        tg = elb.create_target_group(
            Name=name, Protocol="TCP", Port=9000, VpcId="vpc-1", TargetType="ip",
            HealthCheckProtocol="TCP", HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5,
        )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
        elb.register_targets(
            TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1", "Port": s.port} for s in (a, b)]
        )
        port = free_port()
        listener = elb.create_listener(
            LoadBalancerArn=lb_arn, Port=port, Protocol="TCP",
            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
        )["Listeners"][0]  # fmt: skip
        assert listener["Protocol"] == "TCP"
        wait_for(lambda: healthy_count(elb, tg) == 2, what="2 healthy TCP targets")

        seen: set[bytes] = set()
        for i in range(10):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"\x00not http %d\n" % i)  # any bytes: it is a byte stream
                reply = sock.makefile("rb").readline()
            who, _, rest = reply.partition(b":")
            assert rest == b"\x00not http %d\n" % i
            seen.add(who)
        assert seen == {b"a", b"b"}

        a.shutdown()
        a.server_close()  # a target's process goes away: the TCP health check fails
        wait_for(lambda: healthy_count(elb, tg) == 1, what="the closed target unhealthy")
        for _ in range(4):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"ping\n")
                assert sock.makefile("rb").readline() == b"b:ping\n"
    finally:
        b.shutdown()
        b.server_close()


def test_nlb_flow_metrics_reach_cloudwatch(server: DockyardProcess) -> None:
    elb = make_client("elbv2", server.endpoint)
    cloudwatch = make_client("cloudwatch", server.endpoint)
    name = f"nm-{uuid.uuid4().hex[:6]}"
    echo = EchoServer("a")
    try:
        lb_arn = elb.create_load_balancer(Name=name, Type="network", Subnets=["subnet-a"])[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        groups = [
            elb.create_target_group(
                Name=f"{name}-{i}", Protocol="TCP", Port=9000, VpcId="vpc-1", TargetType="ip",
                HealthCheckProtocol="TCP", HealthCheckIntervalSeconds=10,
                HealthCheckTimeoutSeconds=5,
            )["TargetGroups"][0]["TargetGroupArn"]
            for i in range(2)
        ]  # fmt: skip
        served = groups[0]  # nothing is ever registered in the second
        elb.register_targets(
            TargetGroupArn=served, Targets=[{"Id": "127.0.0.1", "Port": echo.port}]
        )
        ports = [free_port(), free_port()]
        for port, tg in zip(ports, groups, strict=True):
            elb.create_listener(
                LoadBalancerArn=lb_arn, Port=port, Protocol="TCP",
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
            )  # fmt: skip
        wait_for(lambda: healthy_count(elb, served) == 1, what="a healthy TCP target")
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", ports[0]), timeout=10) as sock:
                sock.sendall(b"ping\n")  # 5 bytes in, "a:ping\n" (7 bytes) back
                assert sock.makefile("rb").readline() == b"a:ping\n"
        for _ in range(2):  # no target to send the flow to: the load balancer resets it
            with (  # the reset may come as soon as the connection is made
                pytest.raises(ConnectionResetError),
                socket.create_connection(("127.0.0.1", ports[1]), timeout=10) as sock,
            ):
                sock.sendall(b"hello\n")
                sock.recv(10)

        lb_only = [{"Name": "LoadBalancer", "Value": lb_arn.split(":loadbalancer/", 1)[1]}]
        assert lb_only[0]["Value"].startswith(f"net/{name}/")
        now = dt.datetime.now(dt.UTC)

        def stat(metric: str, dims: list[dict[str, str]], statistic: str = "Sum") -> float:
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/NetworkELB", MetricName=metric, Dimensions=dims,
                StartTime=now - dt.timedelta(hours=1), EndTime=now + dt.timedelta(hours=20),
                Period=60, Statistics=[statistic],
            )["Datapoints"]  # fmt: skip
            values = [p[statistic] for p in points]
            return float(sum(values) if statistic == "Sum" else max(values, default=0))

        # Published once a minute of server time (3 s of wall time at 20x).
        wait_for(lambda: stat("NewFlowCount", lb_only) == 7, timeout=30, what="NewFlowCount")
        assert stat("NewFlowCount_TCP", lb_only) == 7
        assert stat("ProcessedBytes", lb_only) == 5 * (5 + 7)
        assert stat("TCP_ELB_Reset_Count", lb_only) == 2
        assert stat("TCP_Target_Reset_Count", lb_only) == 0
        both = [*lb_only, {"Name": "TargetGroup", "Value": served.split(":", 5)[5]}]
        wait_for(lambda: stat("HealthyHostCount", both, "Maximum") == 1, what="HealthyHostCount")
        assert stat("UnHealthyHostCount", both, "Maximum") == 0
        listed = cloudwatch.list_metrics(Namespace="AWS/NetworkELB", Dimensions=lb_only)
        names = {m["MetricName"] for m in listed["Metrics"]}
        assert {"ActiveFlowCount", "NewFlowCount", "ProcessedBytes"} <= names
        assert "RequestCount" not in names  # an HTTP metric: not an NLB's
    finally:
        echo.shutdown()
        echo.server_close()


def test_request_count_reaches_cloudwatch(server: DockyardProcess) -> None:
    elb = make_client("elbv2", server.endpoint)
    cloudwatch = make_client("cloudwatch", server.endpoint)
    name = f"m-{uuid.uuid4().hex[:6]}"
    backend = Backend("metrics").start()
    try:
        lb_arn, tg, port, _ = alb_to(elb, name, backend)
        wait_for(lambda: healthy_count(elb, tg) == 1, what="a healthy target")
        for _ in range(25):
            assert http_get(port)[0] == 200
        for _ in range(5):
            assert http_get(port, "/missing?status=404")[0] == 404

        lb_dim = lb_arn.split(":loadbalancer/", 1)[1]  # app/<name>/<id>
        assert lb_dim.startswith(f"app/{name}/")
        now = dt.datetime.now(dt.UTC)

        def total(metric: str, dims: list[dict[str, str]]) -> float:
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/ApplicationELB", MetricName=metric, Dimensions=dims,
                StartTime=now - dt.timedelta(hours=1), EndTime=now + dt.timedelta(hours=20),
                Period=60, Statistics=["Sum"],
            )["Datapoints"]  # fmt: skip
            return float(sum(p["Sum"] for p in points))

        lb_only = [{"Name": "LoadBalancer", "Value": lb_dim}]
        # Published once a minute of server time (3 s of wall time at 20x).
        wait_for(lambda: total("RequestCount", lb_only) == 30, timeout=30, what="RequestCount")
        tg_dim = tg.split(":", 5)[5]  # targetgroup/<name>/<id>
        both = [*lb_only, {"Name": "TargetGroup", "Value": tg_dim}]
        assert total("RequestCount", both) == 30
        assert total("HTTPCode_Target_2XX_Count", both) == 25
        assert total("HTTPCode_Target_4XX_Count", both) == 5
        assert total("HTTPCode_Target_4XX_Count", lb_only) == 5  # also per load balancer
        assert total("HTTPCode_Target_2XX_Count", lb_only) == 25
        times = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApplicationELB", MetricName="TargetResponseTime", Dimensions=lb_only,
            StartTime=now - dt.timedelta(hours=1), EndTime=now + dt.timedelta(hours=20),
            Period=3600, Statistics=["SampleCount", "Maximum"],
        )["Datapoints"]  # fmt: skip
        assert sum(p["SampleCount"] for p in times) == 30
        assert 0 < max(p["Maximum"] for p in times) < 5
        listed = cloudwatch.list_metrics(Namespace="AWS/ApplicationELB", Dimensions=lb_only)
        assert "RequestCount" in {m["MetricName"] for m in listed["Metrics"]}
    finally:
        backend.stop()


def test_sigkill_keeps_load_balancers_listeners_groups_and_targets(
    server: DockyardProcess,
) -> None:
    elb = make_client("elbv2", server.endpoint)
    name = f"r-{uuid.uuid4().hex[:6]}"
    backend = Backend("survivor").start()
    try:
        lb_arn, tg, port, listener_arn = alb_to(elb, name, backend)
        elb.create_rule(
            ListenerArn=listener_arn, Priority=5,
            Conditions=[{"Field": "path-pattern", "Values": ["/fixed"]}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "teapot"}}],
        )  # fmt: skip
        wait_for(lambda: healthy_count(elb, tg) == 1, what="a healthy target")
        status, body = http_get(port)
        assert (status, body.split()[0]) == (200, b"survivor")

        server.kill(signal.SIGKILL)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        server.start()

        lbs = elb.describe_load_balancers(Names=[name])["LoadBalancers"]
        assert [lb["LoadBalancerArn"] for lb in lbs] == [lb_arn]
        listeners = elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
        assert [(x["ListenerArn"], x["Port"]) for x in listeners] == [(listener_arn, port)]
        rules = elb.describe_rules(ListenerArn=listener_arn)["Rules"]
        assert sorted(r["Priority"] for r in rules) == ["5", "default"]
        groups = elb.describe_target_groups(Names=[name])["TargetGroups"]
        assert [g["TargetGroupArn"] for g in groups] == [tg]
        assert groups[0]["LoadBalancerArns"] == [lb_arn]
        targets = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        assert [(t["Target"]["Id"], t["Target"]["Port"]) for t in targets] == [
            ("127.0.0.1", backend.port)
        ]
        # Health is observed again from scratch, and the listener listens again.
        wait_for(lambda: healthy_count(elb, tg) == 1, what="the target healthy again")
        status, body = http_get(port)
        assert (status, body.split()[0]) == (200, b"survivor")
        assert http_get(port, "/fixed") == (418, b"teapot")
    finally:
        backend.stop()
