"""CreateService/UpdateService `serviceRegistries` rules, per network mode, as ECS has them."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.discovery import Registry
from dockyard.core.scope import Scope
from dockyard.services.ecs.deployments.validation import service_registries, unsupported
from dockyard.services.ecs.errors import InvalidParameterException

SCOPE = Scope("000000000000", "us-east-1")
SRV = "arn:aws:servicediscovery:us-east-1:000000000000:service/srv-srv"
A = "arn:aws:servicediscovery:us-east-1:000000000000:service/srv-a"


class Registries:
    def registry(self, account_id: str, region: str, registry_arn: str) -> Registry | None:
        types = {SRV: frozenset({"SRV"}), A: frozenset({"A"})}.get(registry_arn)
        if types is None or account_id != SCOPE.account_id:
            return None
        return Registry(registry_arn, "arn:ns", types, False)

    def namespace_arn(self, account_id: str, region: str, ref: str) -> str | None:
        return None

    def register(self, registry_arn: str, instance_id: str, attributes: dict[str, str],
                 owner: str) -> None: ...  # fmt: skip

    def deregister(self, registry_arn: str, instance_id: str) -> None: ...

    def owned(self, owner: str) -> dict[tuple[str, str], dict[str, str]]:
        return {}

    def owners(self) -> set[str]:
        return set()


def taskdef(mode: str) -> dict[str, Any]:
    return {
        "networkMode": mode,
        "containerDefinitions": [{"name": "app", "portMappings": [{"containerPort": 80}]}],
    }


def check(entries: list[dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    return service_registries(entries, taskdef(mode), Registries(), SCOPE)


@pytest.mark.parametrize(
    ("mode", "entries", "words"),
    [
        ("host", [{"registryArn": SRV}], "containerName and containerPort are required"),
        ("bridge", [{"registryArn": A, "containerName": "app", "containerPort": 80}], "SRV"),
        ("host", [{"registryArn": SRV, "port": 80}], "port is only for the awsvpc"),
        ("awsvpc", [{"registryArn": SRV}], "SRV record"),
        (
            "awsvpc",
            [{"registryArn": SRV, "port": 80, "containerName": "app", "containerPort": 80}],
            "not both",
        ),
        (
            "host",
            [{"registryArn": SRV, "containerName": "app", "containerPort": 81}],
            "container port 81",
        ),
        (
            "host",
            [{"registryArn": SRV, "containerName": "db", "containerPort": 80}],
            "container db does not exist",
        ),
        ("awsvpc", [{"registryArn": A}, {"registryArn": SRV, "port": 1}], "one service registry"),
        ("awsvpc", [{"registryArn": A + "x"}], "does not exist"),
    ],
)
def test_invalid_registries_are_refused(mode: str, entries: list[dict[str, Any]],
                                        words: str) -> None:  # fmt: skip
    with pytest.raises(InvalidParameterException) as exc:
        check(entries, mode)
    assert words in exc.value.message


def test_valid_registries_in_their_canonical_form() -> None:
    assert check([{"registryArn": A}], "awsvpc") == [{"registryArn": A}]
    assert check([{"registryArn": SRV, "port": 8080}], "awsvpc") == [
        {"registryArn": SRV, "port": 8080}
    ]
    assert check([{"registryArn": SRV, "containerName": "app", "containerPort": 80}], "host") == [
        {"registryArn": SRV, "containerName": "app", "containerPort": 80}
    ]


def test_task_sets_still_refuse_registries() -> None:
    with pytest.raises(InvalidParameterException):
        unsupported({"serviceRegistries": [{"registryArn": A}]})
    unsupported({"serviceRegistries": [{"registryArn": A}]}, registries=True)
