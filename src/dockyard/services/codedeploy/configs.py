"""The predefined deployment configurations (CodeDeployDefault.*), in every account."""

from __future__ import annotations

import uuid
from typing import Any

from dockyard.services.codedeploy.model import ComputePlatform, DeploymentConfig

DEFAULT_ECS_CONFIG = "CodeDeployDefault.ECSAllAtOnce"
DEFAULT_SERVER_CONFIG = "CodeDeployDefault.OneAtATime"


def _canary(percent: int, minutes: int) -> dict[str, Any]:
    body = {"canaryPercentage": percent, "canaryInterval": minutes}
    return {"type": "TimeBasedCanary", "timeBasedCanary": body}


def _linear(percent: int, minutes: int) -> dict[str, Any]:
    body = {"linearPercentage": percent, "linearInterval": minutes}
    return {"type": "TimeBasedLinear", "timeBasedLinear": body}


ALL_AT_ONCE: dict[str, Any] = {"type": "AllAtOnce"}

_ECS = {
    "CodeDeployDefault.ECSAllAtOnce": ALL_AT_ONCE,
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": _linear(10, 1),
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": _linear(10, 3),
    "CodeDeployDefault.ECSCanary10Percent5Minutes": _canary(10, 5),
    "CodeDeployDefault.ECSCanary10Percent15Minutes": _canary(10, 15),
}
_LAMBDA = {
    "CodeDeployDefault.LambdaAllAtOnce": ALL_AT_ONCE,
    "CodeDeployDefault.LambdaCanary10Percent5Minutes": _canary(10, 5),
    "CodeDeployDefault.LambdaCanary10Percent10Minutes": _canary(10, 10),
    "CodeDeployDefault.LambdaCanary10Percent15Minutes": _canary(10, 15),
    "CodeDeployDefault.LambdaCanary10Percent30Minutes": _canary(10, 30),
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute": _linear(10, 1),
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes": _linear(10, 2),
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes": _linear(10, 3),
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes": _linear(10, 10),
}
_SERVER = {
    "CodeDeployDefault.OneAtATime": {"type": "HOST_COUNT", "value": 1},
    "CodeDeployDefault.HalfAtATime": {"type": "FLEET_PERCENT", "value": 50},
    "CodeDeployDefault.AllAtOnce": {"type": "HOST_COUNT", "value": 0},
}


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"codedeploy:{name}"))


def predefined() -> dict[str, DeploymentConfig]:
    out: dict[str, DeploymentConfig] = {}
    for name, routing in _ECS.items():
        out[name] = DeploymentConfig(_id(name), name, ComputePlatform.ECS, 0.0, dict(routing))
    for name, routing in _LAMBDA.items():
        out[name] = DeploymentConfig(_id(name), name, ComputePlatform.LAMBDA, 0.0, dict(routing))
    for name, hosts in _SERVER.items():
        out[name] = DeploymentConfig(
            _id(name), name, ComputePlatform.SERVER, 0.0, {"type": "AllAtOnce"}, dict(hosts)
        )
    return out
