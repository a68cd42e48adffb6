"""A rolling deployment of a 10-task service, timed from UpdateService to rolloutState
COMPLETED, with per-phase timings, as a user polling the API sees them.

    .venv/bin/python benchmarks/rolling_deploy.py [--tasks 10] [--runtime process]

The tasks have a container health check at AWS's shortest interval (5 s); the service rolls
to a new revision with minimumHealthyPercent 100 and maximumPercent 200 (ECS's defaults).
Phases (seconds since UpdateService): all new tasks placed, all RUNNING, all HEALTHY, all old
tasks STOPPED, rollout COMPLETED. Polling every 50 ms on the server's real clock.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.server import DockyardProcess

HEALTH = {"command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 1}


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


def register(ecs: Any, script: str) -> str:
    arn: str = ecs.register_task_definition(
        family="bench-roll",
        networkMode="host",
        containerDefinitions=[
            {
                "name": "app",
                "image": "process:/tmp",
                "memory": 16,
                "entryPoint": ["sh", "-c"],
                "command": [script],
                "healthCheck": HEALTH,
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def service_tasks(ecs: Any, name: str) -> list[dict[str, Any]]:
    arns: set[str] = set()
    for desired in ("RUNNING", "STOPPED"):
        arns |= set(ecs.list_tasks(serviceName=name, desiredStatus=desired)["taskArns"])
    ordered = sorted(arns)
    tasks: list[dict[str, Any]] = []
    for i in range(0, len(ordered), 100):
        tasks += ecs.describe_tasks(tasks=ordered[i : i + 100])["tasks"]
    return tasks


def wait_completed(ecs: Any, name: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        service = ecs.describe_services(services=[name])["services"][0]
        deployments = service["deployments"]
        if len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED":
            return
        time.sleep(0.05)
    raise RuntimeError("the service did not reach a steady state")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--runtime", default="process")
    args = parser.parse_args()
    count = args.tasks

    with tempfile.TemporaryDirectory() as tmp:
        server = DockyardProcess(Path(tmp) / "data", "--runtime", args.runtime).start()
        try:
            ecs = ecs_client(server.endpoint)
            while not ecs.list_container_instances()["containerInstanceArns"]:
                time.sleep(0.05)
            old, new = register(ecs, "sleep 3600"), register(ecs, "sleep 3601")
            ecs.create_service(
                serviceName="bench",
                taskDefinition=old,
                desiredCount=count,
                deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200},
            )
            wait_completed(ecs, "bench")

            phases: dict[str, float] = {}
            peak = 0
            start = time.perf_counter()
            ecs.update_service(service="bench", taskDefinition=new)
            while True:
                now = time.perf_counter() - start
                tasks = service_tasks(ecs, "bench")
                fresh = [t for t in tasks if t["taskDefinitionArn"] == new]
                stale = [t for t in tasks if t["taskDefinitionArn"] == old]
                peak = max(peak, len([t for t in tasks if t["lastStatus"] != "STOPPED"]))
                checks = {
                    "new tasks placed": len(fresh) >= count,
                    "new tasks RUNNING": len([t for t in fresh if t["lastStatus"] == "RUNNING"])
                    >= count,
                    "new tasks HEALTHY": len(
                        [t for t in fresh if t.get("healthStatus") == "HEALTHY"]
                    )
                    >= count,
                    "old tasks STOPPED": all(t["lastStatus"] == "STOPPED" for t in stale),
                }
                for phase, reached in checks.items():
                    if reached and phase not in phases:
                        phases[phase] = now
                service = ecs.describe_services(services=["bench"])["services"][0]
                deployments = service["deployments"]
                if len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED":
                    phases["rollout COMPLETED"] = time.perf_counter() - start
                    break
                if now > 120:
                    raise RuntimeError(f"no steady state after 120 s: {deployments}")
                time.sleep(0.05)
        finally:
            server.stop()

    print(f"rolling deployment of {count} tasks (100/200, health check interval 5 s)")
    for phase, at in sorted(phases.items(), key=lambda kv: kv[1]):
        print(f"  {phase:<20} {at:6.2f} s")
    print(f"  peak tasks not STOPPED: {peak} (maximumPercent allows {count * 2})")
    total = phases["rollout COMPLETED"]
    print(f"wall time to COMPLETED: {total:.2f} s (goal < 20 s)")
    return 0 if total < 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
