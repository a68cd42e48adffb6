"""CloudWatch Logs CreateExportTask to S3: the group's events of the range land in the
bucket as gzip files, one per stream; the task is described as it goes."""

from __future__ import annotations

import gzip
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess
from tests.support.waiting import wait_for


def test_export_a_log_group_to_s3(dockyard: DockyardProcess) -> None:
    s3: Any = make_client("s3", dockyard.endpoint)
    logs: Any = make_client("logs", dockyard.endpoint)
    s3.create_bucket(Bucket="logs-export")
    group = "/export/app"
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    for stream, messages in (("web-1", ["GET /", "GET /health"]), ("worker-1", ["job done"])):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
        )
    logs.create_log_stream(logGroupName=group, logStreamName="web-old")
    early = [{"timestamp": now - 3_600_000, "message": "too early"}]
    logs.put_log_events(logGroupName=group, logStreamName="web-old", logEvents=early)

    with pytest.raises(ClientError) as err:
        logs.create_export_task(logGroupName=group, fromTime=now - 1000, to=now + 1000,
                                destination="no-such-bucket")  # fmt: skip
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"

    task_id = logs.create_export_task(
        taskName="nightly", logGroupName=group, fromTime=now - 1000, to=now + 1000,
        destination="logs-export", destinationPrefix="exports",
    )["taskId"]  # fmt: skip

    def finished() -> dict[str, Any] | None:
        task: dict[str, Any] = logs.describe_export_tasks(taskId=task_id)["exportTasks"][0]
        return task if task["status"]["code"] not in ("PENDING", "RUNNING") else None

    task = wait_for(finished, what="the export task to finish")
    assert task["status"]["code"] == "COMPLETED", task
    assert task["taskName"] == "nightly" and task["destination"] == "logs-export"
    listed = s3.list_objects_v2(Bucket="logs-export", Prefix=f"exports/{task_id}/")
    keys = sorted(o["Key"] for o in listed["Contents"])
    assert keys == [f"exports/{task_id}/web-1/000000.gz", f"exports/{task_id}/worker-1/000000.gz"]
    body = s3.get_object(Bucket="logs-export", Key=keys[0])["Body"].read()
    lines = gzip.decompress(body).decode().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["GET /", "GET /health"]
    assert lines[0].split(" ", 1)[0].endswith("Z")
    with pytest.raises(ClientError) as err:
        logs.cancel_export_task(taskId=task_id)
    assert err.value.response["Error"]["Code"] == "InvalidOperationException"
