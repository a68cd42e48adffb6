"""The server process as a user runs it: clean shutdown, unserved services, bad input."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import make_client
from tests.support.server import DockyardProcess


def test_sigterm_shuts_down_cleanly(fresh_server: Callable[..., DockyardProcess]) -> None:
    server = fresh_server("--runtime", "process")
    assert server.stop() == 0  # not killed after the 30 s it is given
    assert "Traceback" not in server.log()


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("dynamodb", lambda c: c.list_tables()),  # json
        ("elb", lambda c: c.describe_load_balancers()),  # query
        ("lambda", lambda c: c.list_functions()),  # rest-json
        ("route53", lambda c: c.list_hosted_zones()),  # rest-xml
    ],
)
def test_unserved_service_answers_501(
    dockyard: DockyardProcess, service: str, call: Callable[[Any], Any]
) -> None:
    client = make_client(service, dockyard.endpoint)
    with pytest.raises(ClientError) as err:
        call(client)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert err.value.response["Error"]["Code"] == "UnsupportedOperation"


def test_unimplemented_ecs_operation_answers_501(dockyard: DockyardProcess) -> None:
    ecs = make_client("ecs", dockyard.endpoint)
    with pytest.raises(ClientError) as err:
        ecs.list_account_settings()
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "ListAccountSettings" in err.value.response["Error"]["Message"]


def test_bad_input_gets_4xx_and_the_server_keeps_serving(dockyard: DockyardProcess) -> None:
    loose = make_client("ecs", dockyard.endpoint, parameter_validation=False)
    with pytest.raises(ClientError) as err:
        loose.create_cluster(clusterName=12)
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "clusterName" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        loose.describe_clusters(include=["NOPE"])
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        loose.tag_resource(resourceArn="arn:aws:ecs:us-east-1:000000000000:cluster/x")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    request = urllib.request.Request(
        dockyard.endpoint + "/",
        data=b"{not json",
        headers={
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
            "Content-Type": "application/x-amz-json-1.1",
        },
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as http_err:
        urllib.request.urlopen(request, timeout=5)
    assert http_err.value.code == 400
    assert b"SerializationException" in http_err.value.read()
    assert make_client("ecs", dockyard.endpoint).list_clusters()["clusterArns"] is not None


def test_a_scaled_clock_never_goes_back_after_a_restart(
    fresh_server: Callable[..., DockyardProcess],
) -> None:
    server = fresh_server("--no-local-agent", "--time-scale", "60")
    ecs = make_client("ecs", server.endpoint)
    container = [{"name": "c", "image": "process:/tmp", "memory": 16, "command": ["true"]}]
    first = ecs.register_task_definition(family="clock", containerDefinitions=container)
    time.sleep(2.5)  # 150 s of clock time, and a save of the clock after it
    second = ecs.register_task_definition(family="clock", containerDefinitions=container)
    server.kill()
    again = fresh_server("--no-local-agent", "--time-scale", "60", data_dir=server.data_dir)
    ecs = make_client("ecs", again.endpoint)
    third = ecs.register_task_definition(family="clock", containerDefinitions=container)
    times = [d["taskDefinition"]["registeredAt"] for d in (first, second, third)]
    assert times[0] < times[1] <= times[2], times
