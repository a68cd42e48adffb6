"""RunTask as a typed domain call, the one the RunTask operation and EventBridge's ECS
targets share."""

from __future__ import annotations

import pytest

from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ecs.tasks import run as task_run
from dockyard.services.ecs.tasks.run import RunTaskRequest
from dockyard.wiring.ecs_ports import EcsTaskLauncher
from tests.unit.services.ecs.tasks_harness import (
    ACCOUNT,
    REGION,
    Client,
    make_ecs,
    make_link,
    registration,
    run,
)

SCOPE = Scope(ACCOUNT, REGION)


def test_a_request_reads_runtask_input_and_gives_it_back() -> None:
    params = {
        "cluster": "default", "taskDefinition": "web:1", "count": 3, "launchType": "EC2",
        "startedBy": "events-rule/r", "group": "g",
        "overrides": {"containerOverrides": []}, "tags": [{"key": "a", "value": "b"}],
    }  # fmt: skip
    request = RunTaskRequest.from_params(params)
    assert (request.task_definition, request.cluster, request.count) == ("web:1", "default", 3)
    assert (request.launch_type, request.started_by, request.group) == ("EC2", "events-rule/r", "g")
    assert request.options == {"overrides": {"containerOverrides": []},
                               "tags": [{"key": "a", "value": "b"}]}  # fmt: skip
    back = request.params()
    del params["cluster"], params["count"]  # the cluster and count are not launch input
    assert back == params


def test_run_task_places_what_fits_and_reports_the_rest() -> None:
    ecs = make_ecs()
    client = Client(ecs)
    run(make_link(ecs).register(registration(memory=300)))
    client.taskdef()  # 128 MiB per task
    result = task_run.run(ecs, SCOPE, RunTaskRequest("web", count=3, started_by="me"))
    assert len(result.tasks) == 2
    assert all(t.started_by == "me" for t in result.tasks)
    assert [f["reason"] for f in result.failures] == ["RESOURCE:MEMORY"]


def test_a_count_out_of_range_is_refused_naming_the_field() -> None:
    ecs = make_ecs()
    with pytest.raises(ServiceError) as err:
        task_run.run(ecs, SCOPE, RunTaskRequest("web", count=11))
    assert err.value.code == "InvalidParameterException"
    assert "(count: 11)" in err.value.message


def test_eventbridge_targets_run_tasks_through_the_domain() -> None:
    ecs = make_ecs()
    Client(ecs).taskdef()
    run(make_link(ecs).register(registration()))
    launcher = EcsTaskLauncher(ecs)
    started, failures = launcher.run_task(
        ACCOUNT, REGION, {"cluster": "default", "taskDefinition": "web", "count": 2,
                          "startedBy": "events-rule/r"},
    )  # fmt: skip
    assert failures == []
    assert [ecs.tasks.by_arn[a].started_by for a in started] == ["events-rule/r"] * 2
