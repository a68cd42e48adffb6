"""Registering as an EC2 instance: an identity document whose signature verifies makes the
container instance that EC2 instance; one that does not is refused as ECS refuses it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.core.errors import ServiceError
from dockyard.dataplane.imds_paths import identity_document
from dockyard.services.ecs import Ecs
from tests.unit.dataplane.imds_fakes import VIEW, FakeVerifier, sign
from tests.unit.services.ecs.tasks_harness import Client, make_ecs, make_link, registration, run

DOCUMENT = identity_document(VIEW).decode()
RESOURCES = [
    {"name": "CPU", "type": "INTEGER", "integerValue": 1024},
    {"name": "MEMORY", "type": "INTEGER", "integerValue": 2048},
]


@pytest.fixture
def ecs() -> Ecs:
    ecs = make_ecs()
    ecs.instances.identity_verifier = FakeVerifier()
    return ecs


def attributes(ci: dict[str, Any]) -> dict[str, str | None]:
    return {a["name"]: a.get("value") for a in ci["attributes"]}


def register_api(client: Client, **params: Any) -> dict[str, Any]:
    out = client("RegisterContainerInstance", totalResources=RESOURCES, **params)
    return dict(out["containerInstance"])


def test_a_verified_document_makes_the_instance_that_ec2_instance(ecs: Ecs) -> None:
    client = Client(ecs)
    ci = register_api(
        client,
        instanceIdentityDocument=DOCUMENT,
        instanceIdentityDocumentSignature=sign(DOCUMENT.encode()),
        attributes=[{"name": "stack", "value": "prod"}],
    )
    assert ci["ec2InstanceId"] == VIEW.instance_id
    attrs = attributes(ci)
    assert attrs["ecs.availability-zone"] == VIEW.availability_zone
    assert attrs["ecs.instance-type"] == VIEW.instance_type
    assert attrs["ecs.ami-id"] == VIEW.image_id
    assert attrs["ecs.os-type"] == "linux"
    assert attrs["stack"] == "prod"
    listed = client("ListContainerInstances", filter=f"ec2InstanceId == {VIEW.instance_id}")[
        "containerInstanceArns"
    ]
    assert listed == [ci["containerInstanceArn"]]


@pytest.mark.parametrize("signature", ["bad-signature", None])
def test_a_document_that_does_not_verify_is_refused(ecs: Ecs, signature: str | None) -> None:
    client = Client(ecs)
    params: dict[str, Any] = {"instanceIdentityDocument": DOCUMENT}
    if signature is not None:
        params["instanceIdentityDocumentSignature"] = signature
    with pytest.raises(ServiceError) as err:
        register_api(client, **params)
    assert err.value.code == "ClientException"
    assert "identity document" in str(err.value)
    assert client("ListContainerInstances")["containerInstanceArns"] == []


def test_a_forged_document_with_an_old_signature_is_refused(ecs: Ecs) -> None:
    forged = json.dumps({**json.loads(DOCUMENT), "instanceId": "i-0fffffffffffffff0"})
    with pytest.raises(ServiceError) as err:
        register_api(
            Client(ecs),
            instanceIdentityDocument=forged,
            instanceIdentityDocumentSignature=sign(DOCUMENT.encode()),
        )
    assert err.value.code == "ClientException"


def test_a_document_that_is_not_json_is_an_invalid_parameter(ecs: Ecs) -> None:
    with pytest.raises(ServiceError) as err:
        register_api(Client(ecs), instanceIdentityDocument="[1, 2]")
    assert err.value.code == "InvalidParameterException"
    assert "instanceIdentityDocument" in str(err.value)


def test_the_agent_link_registers_with_the_document(ecs: Ecs) -> None:
    link = make_link(ecs)
    reg = registration()
    reg.identity_document = DOCUMENT
    reg.identity_signature = sign(DOCUMENT.encode())
    arn = run(link.register(reg))
    ci = Client(ecs).instance(arn)
    assert ci["ec2InstanceId"] == VIEW.instance_id
    assert attributes(ci)["ecs.instance-type"] == VIEW.instance_type
    reg.identity_signature = "forged"
    with pytest.raises(ServiceError) as err:
        run(link.register(reg))
    assert err.value.code == "ClientException"


def test_without_ec2_the_document_instance_id_is_taken_as_given() -> None:
    ecs = make_ecs()  # no verifier wired
    ci = register_api(Client(ecs), instanceIdentityDocument=DOCUMENT)
    assert ci["ec2InstanceId"] == VIEW.instance_id
