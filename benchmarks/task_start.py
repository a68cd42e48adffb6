"""RunTask -> RUNNING latency, p50/p95 over N tasks, for the process driver and the Docker
driver, beside raw `docker run -d` of the same image on the same engine, in one run.

    .venv/bin/python benchmarks/task_start.py [--tasks 50] [--skip-docker]

Latency is measured from the moment RunTask is sent until DescribeTasks first shows the
task RUNNING (polled every 5 ms), as a user's script would see it. For Docker, the reference
is the wall time of `docker run -d` (the engine's own "started") of the same image and
command.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import DockyardProcess


def ecs_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ecs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def run_and_wait(ecs: Any, taskdef: str) -> tuple[float, str]:
    start = time.perf_counter()
    arn = ecs.run_task(taskDefinition=taskdef)["tasks"][0]["taskArn"]
    while True:
        task = ecs.describe_tasks(tasks=[arn])["tasks"][0]
        if task["lastStatus"] == "RUNNING":
            return time.perf_counter() - start, arn
        if task["lastStatus"] == "STOPPED":
            raise RuntimeError(f"task stopped: {task.get('stoppedReason')}")
        time.sleep(0.005)


def measure_dockyard(runtime: str, image: str, command: list[str], tasks: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = DockyardProcess(Path(tmp) / "data", "--runtime", runtime).start()
        try:
            ecs = ecs_client(server.endpoint)
            while not ecs.list_container_instances()["containerInstanceArns"]:
                time.sleep(0.05)
            taskdef = ecs.register_task_definition(
                family=f"bench-{runtime}",
                networkMode="host" if runtime == "process" else "bridge",
                containerDefinitions=[
                    {"name": "main", "image": image, "memory": 32, "command": command}
                ],
            )["taskDefinition"]["taskDefinitionArn"]
            run_and_wait(ecs, taskdef)  # warm up
            latencies, arns = [], []
            for _ in range(tasks):
                latency, arn = run_and_wait(ecs, taskdef)
                latencies.append(latency)
                arns.append(arn)
            for arn in arns:
                ecs.stop_task(task=arn)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                described = ecs.describe_tasks(tasks=arns[:100])["tasks"]
                if all(t["lastStatus"] == "STOPPED" for t in described):
                    break
                time.sleep(0.2)
            return latencies
        finally:
            server.stop()


def measure_raw_docker(image: str, command: list[str], tasks: int) -> list[float]:
    latencies, ids = [], []
    for _ in range(tasks + 1):
        start = time.perf_counter()
        out = subprocess.run(
            ["docker", "run", "-d", "--memory", "32m", image, *command],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        latencies.append(time.perf_counter() - start)
        ids.append(out.stdout.strip())
    subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False)
    return latencies[1:]


def summary(name: str, latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000
    print(f"{name:<28}{len(ordered):>6}{p50:>10.1f}{p95:>10.1f}")
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--skip-docker", action="store_true")
    args = parser.parse_args()

    print(f"{'RunTask -> RUNNING':<28}{'tasks':>6}{'p50 ms':>10}{'p95 ms':>10}")
    process = measure_dockyard("process", "process:/tmp", ["sleep", "600"], args.tasks)
    p50, _ = summary("dockyard process driver", process)
    print(f"  goal p50 < 100 ms: {'met' if p50 < 100 else 'NOT met'}")
    if args.skip_docker:
        return
    import docker
    from tests.support.images import build_busybox_image

    image = build_busybox_image(docker.from_env())
    raw = measure_raw_docker(image, ["sleep", "600"], args.tasks)
    docker_lat = measure_dockyard("docker", image, ["sleep", "600"], args.tasks)
    raw_p50, _ = summary("raw docker run -d", raw)
    dy_p50, _ = summary("dockyard docker driver", docker_lat)
    ratio = dy_p50 / raw_p50
    verdict = "met" if ratio <= 1.3 else "NOT met"
    print(f"  docker driver / raw p50: {ratio:.2f}x (goal <= 1.3x: {verdict})")


if __name__ == "__main__":
    main()
