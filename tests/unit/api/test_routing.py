"""Identifying service and operation from botocore's models."""

from __future__ import annotations

import pytest

from dockyard.api.auth import SigV4
from dockyard.api.http import HttpRequest
from dockyard.api.models import ModelCatalog
from dockyard.api.restroutes import compile_route
from dockyard.api.router import Router, RoutingError


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(ModelCatalog(), ["ecs"])


def _sig(service: str) -> SigV4:
    return SigV4("AKID", "20260101", "us-east-1", service, ("host",), "sig")


def _form(body: str) -> HttpRequest:
    return HttpRequest(
        "POST", "/", "", {"content-type": "application/x-www-form-urlencoded"}, body.encode()
    )


def test_catalog_indexes_every_botocore_service() -> None:
    catalog = ModelCatalog()
    assert len(catalog.infos) > 400
    cloudwatch = catalog.info("cloudwatch")
    assert cloudwatch is not None
    assert set(cloudwatch.protocols) >= {"json", "query", "smithy-rpc-v2-cbor"}
    assert cloudwatch.query_compatible
    assert cloudwatch.signing_name == "monitoring"
    ecs = catalog.by_target_prefix("AmazonEC2ContainerServiceV20141113")
    assert ecs is not None and ecs.name == "ecs"


def test_json_target(router: Router) -> None:
    req = HttpRequest(
        "POST", "/", "", {"x-amz-target": "AmazonEC2ContainerServiceV20141113.DescribeClusters"}
    )
    route = router.route(req, None)
    assert (route.service.name, route.operation, route.protocol) == (
        "ecs",
        "DescribeClusters",
        "json",
    )


def test_query_signing_names_resolve_by_version(router: Router) -> None:
    v2 = router.route(
        _form("Action=DescribeLoadBalancers&Version=2015-12-01"), _sig("elasticloadbalancing")
    )
    assert v2.service.name == "elbv2"
    v1 = router.route(
        _form("Action=DescribeLoadBalancers&Version=2012-06-01"), _sig("elasticloadbalancing")
    )
    assert v1.service.name == "elb"
    cw = router.route(_form("Action=ListMetrics&Version=2010-08-01"), _sig("monitoring"))
    assert (cw.service.name, cw.protocol) == ("cloudwatch", "query")


def test_smithy_cbor_path(router: Router) -> None:
    req = HttpRequest(
        "POST",
        "/service/GraniteServiceVersion20100801/operation/ListMetrics",
        "",
        {"smithy-protocol": "rpc-v2-cbor"},
    )
    route = router.route(req, None)
    assert (route.service.name, route.operation, route.protocol) == (
        "cloudwatch",
        "ListMetrics",
        "smithy-rpc-v2-cbor",
    )


@pytest.mark.parametrize(
    ("method", "path", "query", "operation", "labels"),
    [
        ("GET", "/b/dir/key%20x.txt", "", "GetObject", {"Bucket": "b", "Key": "dir/key x.txt"}),
        ("GET", "/b/k", "acl", "GetObjectAcl", {"Bucket": "b", "Key": "k"}),
        ("GET", "/b", "list-type=2", "ListObjectsV2", {"Bucket": "b"}),
        ("GET", "/b", "", "ListObjects", {"Bucket": "b"}),
        ("PUT", "/b/k", "", "PutObject", {"Bucket": "b", "Key": "k"}),
        ("GET", "/", "", "ListBuckets", {}),
    ],
)
def test_rest_xml_routes_of_s3(
    router: Router,
    method: str,
    path: str,
    query: str,
    operation: str,
    labels: dict[str, str],
) -> None:
    route = router.route(HttpRequest(method, path, query, {}), _sig("s3"))
    assert route.operation == operation
    assert route.labels == labels


def test_rest_json_routes_of_lambda(router: Router) -> None:
    route = router.route(
        HttpRequest("POST", "/2015-03-31/functions/my-fn/invocations", "", {}), _sig("lambda")
    )
    assert (route.operation, route.labels) == ("Invoke", {"FunctionName": "my-fn"})
    with pytest.raises(RoutingError) as info:
        router.route(HttpRequest("PATCH", "/nothing", "", {}), _sig("lambda"))
    assert info.value.status == 404


def test_route_templates_prefer_literal_segments() -> None:
    literal = compile_route("A", "/things/list")
    label = compile_route("B", "/things/{Id}")
    assert literal.score > label.score
    assert label.match("/things/x%2Fy", []) == {"Id": "x/y"}
    assert label.match("/things/x/y", []) is None
