"""ECS deployment alarms: a deployment whose CloudWatch alarm goes to ALARM is rolled back."""

from __future__ import annotations

import os
import sys
import time
import uuid
from typing import Any

import pytest

from tests.integration.conftest import make_client

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="tasks need root for namespaces")


def taskdef(ecs: Any, family: str, message: str) -> str:
    arn: str = ecs.register_task_definition(
        family=family, networkMode="host",
        containerDefinitions=[{"name": "app", "image": "process:/tmp", "essential": True,
                               "memory": 32, "entryPoint": [sys.executable, "-c"],
                               "command": [f"import time; print({message!r}); time.sleep(600)"]}],
    )["taskDefinition"]["taskDefinitionArn"]  # fmt: skip
    return arn


def test_deployment_alarm_in_alarm_rolls_back(fresh_server: Any) -> None:
    server = fresh_server("--runtime", "process", "--time-scale", "60")
    ecs = make_client("ecs", server.endpoint)
    cw = make_client("cloudwatch", server.endpoint)
    cw.put_metric_alarm(
        AlarmName="web-5xx", Namespace="Web", MetricName="Errors", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )  # fmt: skip
    family = f"web-{uuid.uuid4().hex[:6]}"
    good, bad = taskdef(ecs, family, "v1"), taskdef(ecs, family, "v2")
    ecs.create_service(
        cluster="default", serviceName="web", taskDefinition=good, desiredCount=2,
        launchType="EC2", deploymentConfiguration={
            "alarms": {"alarmNames": ["web-5xx"], "enable": True, "rollback": True}},
    )  # fmt: skip

    def service() -> dict[str, Any]:
        got: dict[str, Any] = ecs.describe_services(services=["web"])["services"][0]
        return got

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if service()["deployments"][0]["rolloutState"] == "COMPLETED":
            break
        time.sleep(0.2)
    assert service()["deployments"][0]["rolloutState"] == "COMPLETED"
    time.sleep(2.5)  # past the first deployment's bake time
    first = service()["deployments"][0]["id"]

    ecs.update_service(service="web", taskDefinition=bad)
    failed_id = service()["deployments"][0]["id"]
    assert failed_id != first
    deadline = time.monotonic() + 30
    rolled_back = False
    while time.monotonic() < deadline and not rolled_back:
        cw.put_metric_data(Namespace="Web", MetricData=[{"MetricName": "Errors", "Value": 50}])
        primary = service()["deployments"][0]
        rolled_back = primary["id"] not in (first, failed_id)
        time.sleep(0.2)
    assert rolled_back
    now = service()
    primary = now["deployments"][0]
    assert primary["taskDefinition"] == good
    assert now["taskDefinition"] == good
    assert "ECS deployment alarm" in primary["rolloutStateReason"]
    failed = next(d for d in now["deployments"] if d["id"] == failed_id) if any(
        d["id"] == failed_id for d in now["deployments"]) else None  # fmt: skip
    if failed is not None:
        assert failed["rolloutState"] == "FAILED"
        assert failed["rolloutStateReason"] == "ECS deployment failed: alarm(s) detected."
    messages = [e["message"] for e in now["events"]]
    assert any("deployment failed: alarm(s) detected: web-5xx" in m for m in messages)
    assert any("rolling back to deployment" in m for m in messages)
    listed = ecs.list_service_deployments(service="web", cluster="default")
    statuses = {d["serviceDeploymentArn"].rsplit("/", 1)[-1]: d["status"]
                for d in listed["serviceDeployments"]}  # fmt: skip
    assert statuses[failed_id.split("/")[-1]] in ("ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
    # The rollback finishes on the good revision: its tasks run v1.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and service()["deployments"][0]["rolloutState"] != (
        "COMPLETED"
    ):  # fmt: skip
        time.sleep(0.2)
    assert service()["deployments"][0]["rolloutState"] == "COMPLETED"
    running = ecs.describe_tasks(tasks=ecs.list_tasks(serviceName="web")["taskArns"])["tasks"]
    assert {t["taskDefinitionArn"] for t in running if t["lastStatus"] == "RUNNING"} == {good}
