"""RegisterTaskDefinition's rules: each one refused with the code and message ECS uses."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.errors import ServiceError
from dockyard.services.ecs import Ecs
from dockyard.services.ecs.taskdefs import validation as rules
from dockyard.store.sqlite import SqliteStore
from tests.unit.services.ecs.test_taskdefs import Client

Request = dict[str, Any]


@pytest.fixture
def client() -> Client:
    ecs = Ecs(SqliteStore(":memory:"), ManualClock())
    ecs.load()
    return Client(ecs)


def base() -> Request:
    return {
        "family": "web",
        "containerDefinitions": [{"name": "app", "image": "busybox", "memory": 64}],
    }


def fargate() -> Request:
    req = base()
    req.update(networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512")
    req["containerDefinitions"] = [{"name": "app", "image": "busybox"}]
    return req


def with_app(req: Request, **fields: Any) -> Request:
    req = copy.deepcopy(req)
    req["containerDefinitions"][0].update(fields)
    return req


def two(req: Request, second: dict[str, Any], **first: Any) -> Request:
    req = with_app(req, **first)
    req["containerDefinitions"].append({"image": "busybox", "memory": 64, **second})
    return req


def many(n: int) -> Request:
    req = base()
    req["containerDefinitions"] = [
        {"name": f"c{i}", "image": "busybox", "memory": 8} for i in range(n)
    ]
    return req


HC = {"command": ["CMD-SHELL", "true"]}

CASES: list[tuple[str, Callable[[], Request], str, str]] = [
    (
        "blank family",
        lambda: {**base(), "family": ""},
        "ClientException",
        "Family can not be blank.",
    ),
    (
        "family chars",
        lambda: {**base(), "family": "my app"},
        "ClientException",
        "Family contains invalid characters.",
    ),
    ("family length", lambda: {**base(), "family": "f" * 256}, "ClientException", "(family:"),
    (
        "no containers",
        lambda: {**base(), "containerDefinitions": []},
        "ClientException",
        "Container list cannot be empty.",
    ),
    ("11 containers", lambda: many(11), "ClientException", "Too many containers."),
    (
        "too large",
        lambda: with_app(base(), command=["x" * 33000]),
        "ClientException",
        "over the limit of 32 KiB",
    ),
    (
        "no name",
        lambda: with_app(base(), name=""),
        "ClientException",
        "Container.name should not be null or empty.",
    ),
    (
        "name chars",
        lambda: with_app(base(), name="my app"),
        "ClientException",
        "Container.name contains invalid characters.",
    ),
    (
        "name length",
        lambda: with_app(base(), name="n" * 256),
        "ClientException",
        "Container.name contains invalid characters.",
    ),
    (
        "duplicate names",
        lambda: two(base(), {"name": "app"}),
        "ClientException",
        "Container names must be unique within a Task Definition.",
    ),
    (
        "no image",
        lambda: with_app(base(), image=""),
        "ClientException",
        "Container.image should not be null or empty.",
    ),
    (
        "no essential",
        lambda: with_app(base(), essential=False),
        "ClientException",
        "Task definition doesn't have any essential container.",
    ),
    (
        "no memory",
        lambda: with_app(base(), memory=None),
        "ClientException",
        "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' "
        "must be specified.",
    ),
    (
        "memory below reservation",
        lambda: with_app(base(), memory=64, memoryReservation=128),
        "ClientException",
        "'memory' (64) must be greater than or equal to 'memoryReservation' (128)",
    ),
    (
        "memory minimum",
        lambda: with_app(base(), memory=4),
        "ClientException",
        "Invalid 'memory' setting for container 'app'. The minimum is 6 MiB (memory: 4).",
    ),
    (
        "reservation minimum",
        lambda: with_app(base(), memory=None, memoryReservation=5),
        "ClientException",
        "Invalid 'memoryReservation' setting for container 'app'.",
    ),
    (
        "container memory over task",
        lambda: {**with_app(base(), memory=2048), "memory": "1024"},
        "ClientException",
        "The 'memory' setting for container 'app' is greater than for the task.",
    ),
    (
        "reservations over task",
        lambda: {
            **two(
                base(),
                {"name": "b", "memory": None, "memoryReservation": 600},
                memory=None,
                memoryReservation=600,
            ),
            "memory": "1024",
        },
        "ClientException",
        "The sum of all container 'memoryReservation' values cannot be greater",
    ),
    (
        "container cpu over task",
        lambda: {**with_app(base(), cpu=2048), "cpu": "1024"},
        "ClientException",
        "The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.",
    ),
    (
        "bad task cpu",
        lambda: {**base(), "cpu": "lots"},
        "InvalidParameterException",
        "Invalid 'cpu' setting for task (cpu: 'lots').",
    ),
    (
        "bad task memory",
        lambda: {**base(), "memory": "1 TB"},
        "InvalidParameterException",
        "Invalid 'memory' setting for task (memory: '1 TB').",
    ),
    (
        "ec2 cpu range",
        lambda: {**base(), "cpu": "64"},
        "ClientException",
        "Invalid 'cpu' setting for task. The value must be between 128 and 196608",
    ),
    (
        "fargate bridge",
        lambda: {**fargate(), "networkMode": "bridge"},
        "ClientException",
        "Fargate only supports network mode \u2018awsvpc\u2019.",
    ),
    (
        "fargate default network",
        lambda: {k: v for k, v in fargate().items() if k != "networkMode"},
        "ClientException",
        "Fargate only supports network mode \u2018awsvpc\u2019.",
    ),
    (
        "fargate no cpu",
        lambda: {k: v for k, v in fargate().items() if k != "cpu"},
        "ClientException",
        "Fargate requires that 'cpu' be defined at the task level.",
    ),
    (
        "fargate no memory",
        lambda: {k: v for k, v in fargate().items() if k != "memory"},
        "ClientException",
        "Fargate requires that 'memory' be defined at the task level.",
    ),
    (
        "fargate bad pair",
        lambda: {**fargate(), "memory": "4096"},
        "ClientException",
        "No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon "
        "ECS documentation for the valid values.",
    ),
    (
        "fargate privileged",
        lambda: with_app(fargate(), privileged=True),
        "ClientException",
        "Tasks using the Fargate launch type do not support privileged containers (container "
        "'app': privileged).",
    ),
    (
        "fargate ipcMode",
        lambda: {**fargate(), "ipcMode": "host"},
        "ClientException",
        "Tasks using the Fargate launch type do not support ipcMode.",
    ),
    (
        "external awsvpc",
        lambda: {**base(), "networkMode": "awsvpc", "requiresCompatibilities": ["EXTERNAL"]},
        "ClientException",
        "(networkMode)",
    ),
    (
        "awsvpc ports differ",
        lambda: {
            **with_app(base(), portMappings=[{"containerPort": 80, "hostPort": 8080}]),
            "networkMode": "awsvpc",
        },
        "ClientException",
        "When networkMode=awsvpc, the host ports and container ports in port mappings must match.",
    ),
    (
        "host ports differ",
        lambda: {
            **with_app(base(), portMappings=[{"containerPort": 80, "hostPort": 81}]),
            "networkMode": "host",
        },
        "ClientException",
        "When networkMode=host, the host ports and container ports in port mappings must match.",
    ),
    (
        "none with ports",
        lambda: {**with_app(base(), portMappings=[{"containerPort": 80}]), "networkMode": "none"},
        "ClientException",
        "Port mappings are not supported when networkMode=none",
    ),
    (
        "bad container port",
        lambda: with_app(base(), portMappings=[{"containerPort": 70000}]),
        "ClientException",
        "Invalid 'containerPort' setting for container 'app'.",
    ),
    (
        "missing container port",
        lambda: with_app(base(), portMappings=[{"hostPort": 80}]),
        "ClientException",
        "Invalid 'containerPort' setting for container 'app'.",
    ),
    (
        "bad host port",
        lambda: with_app(base(), portMappings=[{"containerPort": 80, "hostPort": 70000}]),
        "ClientException",
        "Invalid 'hostPort' setting for container 'app'.",
    ),
    (
        "duplicate host port",
        lambda: two(
            base(),
            {"name": "b", "portMappings": [{"containerPort": 81, "hostPort": 80}]},
            portMappings=[{"containerPort": 80, "hostPort": 80}],
        ),
        "ClientException",
        "TCP host port '80' is mapped multiple times in task.",
    ),
    (
        "duplicate awsvpc port",
        lambda: {
            **two(
                base(),
                {"name": "b", "portMappings": [{"containerPort": 80}]},
                portMappings=[{"containerPort": 80}],
            ),
            "networkMode": "awsvpc",
        },
        "ClientException",
        "TCP host port '80' is mapped multiple times in task.",
    ),
    (
        "depends on missing",
        lambda: with_app(base(), dependsOn=[{"containerName": "db", "condition": "START"}]),
        "ClientException",
        "Container 'app' depends on container 'db', which is not in the task "
        "definition (dependsOn.containerName).",
    ),
    (
        "depends on itself",
        lambda: with_app(base(), dependsOn=[{"containerName": "app", "condition": "START"}]),
        "ClientException",
        "(dependsOn.containerName)",
    ),
    (
        "bad condition",
        lambda: two(
            base(), {"name": "db"}, dependsOn=[{"containerName": "db", "condition": "READY"}]
        ),
        "ClientException",
        "(dependsOn.condition)",
    ),
    (
        "healthy without health check",
        lambda: two(
            base(), {"name": "db"}, dependsOn=[{"containerName": "db", "condition": "HEALTHY"}]
        ),
        "ClientException",
        "but 'db' has no healthCheck (dependsOn.condition)",
    ),
    (
        "success on essential",
        lambda: two(
            base(), {"name": "init"}, dependsOn=[{"containerName": "init", "condition": "SUCCESS"}]
        ),
        "ClientException",
        "A dependency container with SUCCESS or COMPLETE condition cannot be "
        "an essential container",
    ),
    (
        "dependency cycle",
        lambda: two(
            base(),
            {"name": "b", "dependsOn": [{"containerName": "app", "condition": "START"}]},
            dependsOn=[{"containerName": "b", "condition": "START"}],
        ),
        "ClientException",
        "Container dependencies form a cycle: app -> b -> app (dependsOn).",
    ),
    (
        "health interval",
        lambda: with_app(base(), healthCheck={**HC, "interval": 4}),
        "ClientException",
        "'interval' must be between 5 and 300 (healthCheck.interval: 4).",
    ),
    (
        "health timeout",
        lambda: with_app(base(), healthCheck={**HC, "timeout": 121}),
        "ClientException",
        "'timeout' must be between 2 and 120 (healthCheck.timeout: 121).",
    ),
    (
        "health retries",
        lambda: with_app(base(), healthCheck={**HC, "retries": 11}),
        "ClientException",
        "'retries' must be between 1 and 10 (healthCheck.retries: 11).",
    ),
    (
        "health start period",
        lambda: with_app(base(), healthCheck={**HC, "startPeriod": 301}),
        "ClientException",
        "(healthCheck.startPeriod: 301)",
    ),
    (
        "health command",
        lambda: with_app(base(), healthCheck={"command": []}),
        "ClientException",
        "(healthCheck.command)",
    ),
    (
        "links outside bridge",
        lambda: {**two(base(), {"name": "db"}, links=["db"]), "networkMode": "awsvpc"},
        "ClientException",
        "links are not supported on container when networkMode=awsvpc",
    ),
    (
        "link to missing",
        lambda: with_app(base(), links=["db:database"]),
        "ClientException",
        "Container 'app' links to 'db'",
    ),
    (
        "hostname awsvpc",
        lambda: {**with_app(base(), hostname="h"), "networkMode": "awsvpc"},
        "ClientException",
        "hostname is not supported on container when networkMode=awsvpc.",
    ),
    (
        "stop timeout",
        lambda: with_app(base(), stopTimeout=121),
        "ClientException",
        "Invalid 'stopTimeout' setting for container 'app'. It must be between 2 and 120 seconds",
    ),
    (
        "start timeout",
        lambda: with_app(base(), startTimeout=1),
        "ClientException",
        "Invalid 'startTimeout' setting for container 'app'.",
    ),
    (
        "unknown volume",
        lambda: with_app(base(), mountPoints=[{"sourceVolume": "data", "containerPath": "/d"}]),
        "ClientException",
        "(mountPoints.sourceVolume)",
    ),
]


@pytest.mark.parametrize(("case", "make", "code", "message"), CASES, ids=[c[0] for c in CASES])
def test_rule_is_enforced(
    client: Client, case: str, make: Callable[[], Request], code: str, message: str
) -> None:
    request = make()
    for c in request["containerDefinitions"]:
        for key in [k for k, v in c.items() if v is None]:
            del c[key]  # None stands for "not given"
    with pytest.raises(ServiceError) as info:
        client("RegisterTaskDefinition", **request)
    assert info.value.code == code
    assert message in info.value.message
    # A refused definition takes no revision number.
    assert client("ListTaskDefinitions")["taskDefinitionArns"] == []


@pytest.mark.parametrize(
    "request_",
    [
        base(),
        many(10),
        fargate(),
        {**fargate(), "cpu": "1 vCPU", "memory": "8 GB"},
        {**fargate(), "cpu": "4096", "memory": "30720"},
        {**fargate(), "cpu": "8192", "memory": "61440"},
        {**fargate(), "cpu": "16384", "memory": "122880"},
        {**base(), "memory": "512", "containerDefinitions": [{"name": "a", "image": "i"}]},
        two(
            base(),
            {"name": "db", "healthCheck": HC},
            dependsOn=[{"containerName": "db", "condition": "HEALTHY"}],
        ),
        two(
            base(),
            {"name": "init", "essential": False},
            dependsOn=[{"containerName": "init", "condition": "SUCCESS"}],
        ),
        two(base(), {"name": "db"}, links=["db:database"]),
        {
            **with_app(base(), portMappings=[{"containerPort": 80, "hostPort": 80}]),
            "networkMode": "host",
        },
        two(
            base(),
            {"name": "b", "portMappings": [{"containerPort": 80}]},
            portMappings=[{"containerPort": 80}],
        ),  # bridge: both dynamic
        {
            **with_app(base(), mountPoints=[{"sourceVolume": "data", "containerPath": "/d"}]),
            "volumes": [{"name": "data"}],
        },
    ],
)
def test_valid_definitions_register(client: Client, request_: Request) -> None:
    td = client("RegisterTaskDefinition", **request_)["taskDefinition"]
    assert td["status"] == "ACTIVE"


def test_every_fargate_size_in_the_table_is_accepted() -> None:
    assert rules.FARGATE_SIZES[256] == {512, 1024, 2048}
    assert min(rules.FARGATE_SIZES[8192]) == 16 * 1024
    assert max(rules.FARGATE_SIZES[8192]) == 60 * 1024
    assert sorted(rules.FARGATE_SIZES[16384])[:2] == [32 * 1024, 40 * 1024]
    assert max(rules.FARGATE_SIZES[16384]) == 120 * 1024
    for cpu, sizes in rules.FARGATE_SIZES.items():
        for memory in sizes:
            req = {**fargate(), "cpu": str(cpu), "memory": str(memory)}
            assert "FARGATE" in rules.check(req).compatibilities


def test_invalid_fargate_sizes_are_refused() -> None:
    for cpu, memory in [(256, 3072), (512, 512), (1024, 9216), (8192, 18432), (16384, 36864)]:
        checked = rules.check(
            {**fargate(), "requiresCompatibilities": [], "cpu": str(cpu), "memory": str(memory)}
        )
        assert checked.compatibilities == ["EC2"]
