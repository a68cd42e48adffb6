"""AWS errors in each protocol: handler errors, bugs, unsupported operations."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.unit.api.conftest import ClientFactory, Server
from tests.unit.api.rawhttp import json_call

SERVICES = ["testjson", "testquery", "testcbor", "testrestjson", "testrestxml"]


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response: dict[str, Any] = info.value.response
    return response


@pytest.mark.parametrize("service", SERVICES)
def test_service_errors_round_trip(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url)
    err = _error(
        client.fail, Code="ThingNotFoundException", Message="No thing <x> & co", Status=404
    )
    assert err["Error"]["Code"] == "ThingNotFoundException"
    assert err["Error"]["Message"] == "No thing <x> & co"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err["ResponseMetadata"]["RequestId"]


@pytest.mark.parametrize("service", SERVICES)
def test_a_bug_in_a_handler_is_an_internal_failure_and_the_server_survives(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url)
    err = _error(client.boom)
    assert err["Error"]["Code"] == "InternalFailure"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 500
    kwargs = {"Id": "i", "Path": "p"} if service.startswith("testrest") else {}
    assert client.echo(Name="still-here", **kwargs)["Name"] == "still-here"


@pytest.mark.parametrize("service", SERVICES)
def test_an_operation_without_handler_answers_501(
    service: str, server: Server, make_client: ClientFactory
) -> None:
    client = make_client(service, server.url)
    kwargs = {"Id": "x"} if service.startswith("testrest") else {}
    err = _error(client.missing, **kwargs)
    assert err["Error"]["Code"] == "UnsupportedOperation"
    assert err["Error"]["Message"] == f"Dockyard does not support {service}:Missing yet"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 501


UNSERVED = [
    ("dynamodb", "list_tables", {}),
    ("ecs", "create_service", {"serviceName": "web"}),
    ("sqs", "list_queues", {}),
    ("elbv2", "describe_load_balancers", {}),
    ("elb", "describe_load_balancers", {}),
    ("autoscaling", "describe_launch_configurations", {}),
    ("cloudwatch", "list_metrics", {}),
    ("lambda", "list_functions", {}),
    ("lambda", "get_function", {"FunctionName": "my-fn"}),
    ("s3", "list_buckets", {}),
    ("s3", "get_object", {"Bucket": "b", "Key": "dir/key.txt"}),
    ("route53", "list_hosted_zones", {}),
    ("ec2", "describe_vpn_connections", {}),
    ("sts", "get_caller_identity", {}),
]


@pytest.mark.parametrize(("service", "method", "kwargs"), UNSERVED)
def test_real_services_we_do_not_serve_answer_a_parsed_501(
    service: str,
    method: str,
    kwargs: dict[str, Any],
    server: Server,
    make_client: ClientFactory,
) -> None:
    client = make_client(service, server.url, variant="real")
    err = _error(getattr(client, method), **kwargs)
    operation = client.meta.method_to_api_mapping[method]
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert err["Error"]["Code"] == "UnsupportedOperation"
    assert err["Error"]["Message"] == f"Dockyard does not support {service}:{operation} yet"


def test_unknown_json_target_is_a_400(server: Server) -> None:
    reply = json_call(server.url, "TestjsonService.NoSuchOp", {})
    assert reply.status == 400
    assert reply.json()["__type"] == "UnknownOperationException"
    reply = json_call(server.url, "NoSuchService_20200101.Op", {})
    assert reply.status == 400
    assert reply.headers["x-amzn-errortype"] == "UnknownOperationException"
