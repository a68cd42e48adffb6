"""PutAttributes, DeleteAttributes and ListAttributes on container instances, and placement
seeing the attributes they set."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from tests.unit.services.ecs.tasks_harness import Client, make_ecs, make_link, registration, run


@pytest.fixture
def world() -> tuple[Client, list[str]]:
    ecs = make_ecs()
    client = Client(ecs)
    link = make_link(ecs, managed_capacity=False)
    arns = [run(link.register(registration())) for _ in range(2)]
    client.taskdef()
    return client, arns


def attr(name: str, target: str, value: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "targetType": "container-instance", "targetId": target}
    if value is not None:
        out["value"] = value
    return out


def test_put_list_delete(world: tuple[Client, list[str]]) -> None:
    client, (one, two) = world
    short_id = one.rsplit("/", 1)[-1]
    out = client("PutAttributes", attributes=[attr("stack", short_id, "prod"), attr("gpu", two)])
    assert out["attributes"] == [attr("stack", one, "prod"), attr("gpu", two)]
    listed = client("ListAttributes", targetType="container-instance", attributeName="stack")
    assert listed["attributes"] == [attr("stack", one, "prod")]
    by_value = client("ListAttributes", targetType="container-instance", attributeName="stack",
                      attributeValue="dev")  # fmt: skip
    assert by_value["attributes"] == []
    everything = client("ListAttributes", targetType="container-instance", maxResults=100)
    while everything.get("nextToken"):
        more = client("ListAttributes", targetType="container-instance", maxResults=100,
                      nextToken=everything["nextToken"])  # fmt: skip
        everything = {**more, "attributes": everything["attributes"] + more["attributes"]}
    found = everything["attributes"]
    assert attr("ecs.os-type", one, "linux") in found and attr("gpu", two) in found
    described = client.instance(one)["attributes"]
    assert {"name": "stack", "value": "prod"} in described
    deleted = client("DeleteAttributes", attributes=[attr("stack", one)])
    assert deleted["attributes"] == [attr("stack", one, "prod")]
    assert client("ListAttributes", targetType="container-instance",
                  attributeName="stack")["attributes"] == []  # fmt: skip


def test_list_pages(world: tuple[Client, list[str]]) -> None:
    client, (one, _) = world
    client("PutAttributes", attributes=[attr(f"a{n}", one, "x") for n in range(5)])
    first = client("ListAttributes", targetType="container-instance", maxResults=3)
    names = [(a["targetId"], a["name"]) for a in first["attributes"]]
    token = first["nextToken"]
    while token:
        page = client("ListAttributes", targetType="container-instance", maxResults=100,
                      nextToken=token)  # fmt: skip
        names += [(a["targetId"], a["name"]) for a in page["attributes"]]
        token = page.get("nextToken")
    each = len(registration().attributes)  # what each registration's agent advertised
    assert len(names) == len(set(names)) == 5 + 2 * each


def test_placement_sees_new_attributes(world: tuple[Client, list[str]]) -> None:
    client, (_, two) = world
    constraint = [{"type": "memberOf", "expression": "attribute:stack == prod"}]
    refused = client.run_task(placementConstraints=constraint)
    assert refused["tasks"] == [] and {f["reason"] for f in refused["failures"]} == {"ATTRIBUTE"}
    client("PutAttributes", attributes=[attr("stack", two, "prod")])
    out = client.run_task(count=3, placementConstraints=constraint)
    assert {t["containerInstanceArn"] for t in out["tasks"]} == {two}


@pytest.mark.parametrize(
    ("operation", "params", "code", "message"),
    [
        ("PutAttributes", {"attributes": [attr("stack", "nope", "x")]},
         "TargetNotFoundException", "nope"),
        ("PutAttributes", {"attributes": [attr("bad name!", "TARGET")]},
         "InvalidParameterException", "attributes.name"),
        ("PutAttributes", {"attributes": [attr("ok", "TARGET", " padded")]},
         "InvalidParameterException", "attributes.value"),
        ("PutAttributes", {"attributes": [{"name": "x", "targetType": "container-instance"}]},
         "InvalidParameterException", "attributes.targetId"),
        ("PutAttributes", {"attributes": [{**attr("x", "TARGET"), "targetType": "task"}]},
         "InvalidParameterException", "targetType"),
        ("PutAttributes", {"attributes": [attr(f"a{n}", "TARGET") for n in range(11)]},
         "AttributeLimitExceededException", "10"),
        ("PutAttributes", {"attributes": [attr("x", "TARGET")], "cluster": "nowhere"},
         "ClusterNotFoundException", "Cluster not found"),
        ("DeleteAttributes", {"attributes": [attr("x", "nope")]},
         "TargetNotFoundException", "nope"),
        ("ListAttributes", {"targetType": "container-instance", "attributeValue": "x"},
         "InvalidParameterException", "attributeName"),
        ("ListAttributes", {"targetType": "task"}, "InvalidParameterException", "targetType"),
    ],
)  # fmt: skip
def test_bad_requests(
    world: tuple[Client, list[str]], operation: str, params: dict[str, Any], code: str,
    message: str,
) -> None:  # fmt: skip
    client, (one, _) = world
    for a in params.get("attributes", []):
        if a.get("targetId") == "TARGET":
            a["targetId"] = one
    with pytest.raises(ServiceError) as err:
        client(operation, **params)
    assert err.value.code == code
    assert message in err.value.message


def test_at_most_ten_custom_attributes_per_instance(world: tuple[Client, list[str]]) -> None:
    client, (one, _) = world
    client("PutAttributes", attributes=[attr(f"a{n}", one) for n in range(10)])
    client("PutAttributes", attributes=[attr("a3", one, "replaced")])  # same name: no new one
    with pytest.raises(ServiceError) as err:
        client("PutAttributes", attributes=[attr("one-more", one)])
    assert err.value.code == "AttributeLimitExceededException"
    names = {a["name"] for a in client("ListAttributes", targetType="container-instance")[
        "attributes"]}  # fmt: skip
    assert "one-more" not in names
