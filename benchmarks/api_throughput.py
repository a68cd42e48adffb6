"""API throughput: DescribeClusters and ListClusters from a pool of concurrent boto3 clients,
against Dockyard and against moto_server on the same machine, in the same run.

    .venv/bin/python benchmarks/api_throughput.py [--clients 4] [--requests 3000]

Each client is a separate process with its own boto3 client (a thread pool would measure
the GIL, not the server). Prints req/s and p50/p99 latency per server and operation, and the
ratio Dockyard / moto.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import DockyardProcess, free_port

CLUSTERS = 10


def client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ecs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, max_pool_connections=4),
    )


def worker(args: tuple[str, str, int, Any]) -> list[float]:
    endpoint, operation, count, barrier = args
    ecs = client(endpoint)
    call = (
        (lambda: ecs.describe_clusters(clusters=["bench-0", "bench-1"], include=["TAGS"]))
        if operation == "DescribeClusters"
        else (lambda: ecs.list_clusters(maxResults=100))
    )
    for _ in range(20):  # warm up the connection and botocore's caches
        call()
    barrier.wait()
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - start)
    return latencies


def measure(endpoint: str, operation: str, clients: int, requests: int) -> dict[str, float]:
    per_client = requests // clients
    with mp.Manager() as manager:
        barrier = manager.Barrier(clients + 1)
        with mp.Pool(clients) as pool:
            result = pool.map_async(worker, [(endpoint, operation, per_client, barrier)] * clients)
            barrier.wait()
            start = time.perf_counter()
            latencies = [x for chunk in result.get() for x in chunk]
            elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def start_moto(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def seed(endpoint: str) -> None:
    ecs = client(endpoint)
    for i in range(CLUSTERS):
        ecs.create_cluster(clusterName=f"bench-{i}", tags=[{"key": "n", "value": str(i)}])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=3000, help="per server and operation")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        dockyard = DockyardProcess(Path(tmp) / "data", "--no-local-agent").start()
        moto_port = free_port()
        moto = start_moto(moto_port)
        try:
            targets = {"dockyard": dockyard.endpoint, "moto": f"http://127.0.0.1:{moto_port}"}
            for endpoint in targets.values():
                seed(endpoint)
            print(f"{args.clients} client processes, {args.requests} requests per run")
            print(f"{'operation':<18}{'server':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
            for operation in ("DescribeClusters", "ListClusters"):
                results = {}
                for name, endpoint in targets.items():
                    r = measure(endpoint, operation, args.clients, args.requests)
                    results[name] = r
                    print(
                        f"{operation:<18}{name:<10}{r['rps']:>9.0f}"
                        f"{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
                    )
                ratio = results["dockyard"]["rps"] / results["moto"]["rps"]
                print(f"{operation:<18}{'ratio':<10}{ratio:>8.2f}x  (dockyard req/s / moto req/s)")
        finally:
            dockyard.stop()
            moto.terminate()
            moto.wait()


if __name__ == "__main__":
    main()
