"""Requests/s and added latency through a Dockyard ALB listener, through HAProxy configured the
same way (one HTTP frontend, one backend server, keep-alive to the backend), and direct to the
backend: the same load generator (wrk) against each, in one run. The three are measured in
alternating rounds and the medians are reported, so that other work on the machine weighs on
each of them alike.

Needs `wrk` and `haproxy` (Debian: `apt-get install -y wrk haproxy`). The proxies are pinned
to CPU 0 and the backend and load generator to the other CPUs (when there are any), so each
proxy gets one core.

    .venv/bin/python benchmarks/alb_throughput.py [--duration 10] [--connections 64] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.server import DockyardProcess, free_port  # noqa: E402

BACKEND = r"""
import asyncio, sys
try:
    import uvloop
    uvloop.install()
except ImportError:
    pass
BODY = b"hello from the backend\n"
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
            % len(BODY)) + BODY
class P(asyncio.Protocol):
    def connection_made(self, t):
        self.t = t
        self.buf = b""
    def data_received(self, data):
        self.buf += data
        n = self.buf.count(b"\r\n\r\n")
        if n:
            self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4:]
            self.t.write(RESPONSE * n)
async def main():
    server = await asyncio.get_running_loop().create_server(P, "127.0.0.1", int(sys.argv[1]),
                                                            backlog=2048)
    await server.serve_forever()
asyncio.run(main())
"""

HAPROXY = """
global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout connect 10s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend web
    bind 127.0.0.1:{port}
    default_backend app
backend app
    server s1 127.0.0.1:{backend}
"""


def cpus() -> tuple[list[str], list[str]]:
    """(proxy CPU, load CPUs) as taskset prefixes; empty when taskset is missing."""
    count = os.cpu_count() or 1
    if not shutil.which("taskset") or count < 2:
        return [], []
    return ["taskset", "-c", "0"], ["taskset", "-c", f"1-{count - 1}"]


def wait_port(port: int, timeout: float = 15.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def wrk(port: int, duration: int, connections: int, load_cpu: list[str]) -> dict[str, float]:
    out = subprocess.run(
        [*load_cpu, "wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
         f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        "non2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": 1.0 if socket_errors else 0.0,
    }


def configure_dockyard(endpoint: str, listen_port: int, backend_port: int) -> None:
    from tests.integration.conftest import make_client

    elb = make_client("elbv2", endpoint)
    lb = elb.create_load_balancer(Name="bench", Subnets=["subnet-a", "subnet-b"])
    tg = elb.create_target_group(
        Name="bench", Protocol="HTTP", Port=backend_port, VpcId="vpc-1", TargetType="ip",
        HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elb.register_targets(TargetGroupArn=tg, Targets=[{"Id": "127.0.0.1"}])
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"], Port=listen_port,
        Protocol="HTTP", DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        health = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        if health[0]["TargetHealth"]["State"] == "healthy":
            return
        time.sleep(0.1)
    raise RuntimeError("the backend never became healthy")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for tool in ("wrk", "haproxy"):
        if not shutil.which(tool):
            print(f"{tool} is missing: apt-get install -y wrk haproxy", file=sys.stderr)
            return 2
    proxy_cpu, load_cpu = cpus()
    procs: list[subprocess.Popen[bytes]] = []
    work = Path(tempfile.mkdtemp(prefix="alb-bench-"))
    dockyard: DockyardProcess | None = None
    rounds: dict[str, list[dict[str, float]]] = {"direct": [], "haproxy": [], "dockyard": []}
    try:
        backend_port = free_port()
        procs.append(
            subprocess.Popen([*load_cpu, sys.executable, "-c", BACKEND, str(backend_port)])
        )
        wait_port(backend_port)

        haproxy_port = free_port()
        cfg = work / "haproxy.cfg"
        cfg.write_text(HAPROXY.format(port=haproxy_port, backend=backend_port))
        procs.append(subprocess.Popen([*proxy_cpu, "haproxy", "-f", str(cfg)]))
        wait_port(haproxy_port)

        dockyard = DockyardProcess(work / "data", "--runtime", "process", "--no-local-agent")
        dockyard.start()
        if proxy_cpu:
            assert dockyard.proc is not None
            subprocess.run(["taskset", "-pc", "0", str(dockyard.proc.pid)],
                           check=True, capture_output=True)  # fmt: skip
        dockyard_port = free_port()
        configure_dockyard(dockyard.endpoint, dockyard_port, backend_port)

        ports = {"direct": backend_port, "haproxy": haproxy_port, "dockyard": dockyard_port}
        for port in ports.values():
            wrk(port, 2, args.connections, load_cpu)  # warm-up
        for i in range(args.rounds):
            order = list(ports) if i % 2 == 0 else list(reversed(ports))
            for name in order:
                rounds[name].append(wrk(ports[name], args.duration, args.connections, load_cpu))
    finally:
        if dockyard is not None:
            dockyard.stop()
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    results = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in rounds.items()
    }
    ratios = [
        d["rps"] / h["rps"] for d, h in zip(rounds["dockyard"], rounds["haproxy"], strict=True)
    ]
    direct = results["direct"]
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s x {args.rounds} alternating rounds "
          f"(medians), proxies pinned to one CPU "
          f"({'taskset' if proxy_cpu else 'not pinned: no taskset or one CPU'})")  # fmt: skip
    print(f"{'path':<10}{'req/s':>12}{'p50 ms':>10}{'p99 ms':>10}"
          f"{'+p50 ms':>10}{'+p99 ms':>10}{'errors':>8}")  # fmt: skip
    for name, r in results.items():
        print(
            f"{name:<10}{r['rps']:>12.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
            f"{r['p50'] - direct['p50']:>10.2f}{r['p99'] - direct['p99']:>10.2f}"
            f"{int(sum(x['non2xx'] + x['socket_errors'] for x in rounds[name])):>8}"
        )
    print("dockyard / haproxy requests/s per round: " + ", ".join(f"{x:.2f}" for x in ratios))
    print(f"dockyard / haproxy requests/s: {statistics.median(ratios):.2f} (median; goal >= 0.50)")
    print(f"dockyard / direct requests/s:  {results['dockyard']['rps'] / direct['rps']:.2f}")
    print(f"haproxy / direct requests/s:   {results['haproxy']['rps'] / direct['rps']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
