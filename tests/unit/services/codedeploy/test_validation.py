"""CodeDeploy input rules: traffic routing configs, ECS deployment groups, AppSpec files."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.codedeploy import appspec, validation
from dockyard.services.codedeploy.service import CodeDeploy
from dockyard.store.sqlite import SqliteStore

SCOPE = Scope("000000000000", "us-east-1")


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ({"type": "TimeBasedCanary"}, "InvalidTrafficRoutingConfigurationException"),
        ({"type": "TimeBasedCanary",
          "timeBasedCanary": {"canaryPercentage": 100, "canaryInterval": 5}},
         "InvalidTrafficRoutingConfigurationException"),
        ({"type": "TimeBasedLinear",
          "timeBasedLinear": {"linearPercentage": 10, "linearInterval": 0}},
         "InvalidTrafficRoutingConfigurationException"),
        ({"type": "Sometimes"}, "InvalidTrafficRoutingConfigurationException"),
    ],
)  # fmt: skip
def test_bad_traffic_routing(config: dict[str, Any], code: str) -> None:
    with pytest.raises(ServiceError) as err:
        validation.traffic_routing(config)
    assert err.value.code == code


def test_traffic_routing_canonical() -> None:
    assert validation.traffic_routing(None) == {"type": "AllAtOnce"}
    config = {"type": "TimeBasedLinear",
              "timeBasedLinear": {"linearPercentage": 20, "linearInterval": 2}}  # fmt: skip
    assert validation.traffic_routing(config) == config


@pytest.mark.parametrize("platform", ["Server", "Lambda", None])
def test_only_ecs_compute_platform(platform: str | None) -> None:
    with pytest.raises(ServiceError) as err:
        validation.compute_platform(platform)
    assert err.value.code == "InvalidComputePlatformException"
    assert "not supported yet" in err.value.message


def pair(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "targetGroups": [{"name": "blue"}, {"name": "green"}],
        "prodTrafficRoute": {"listenerArns": ["arn:prod"]},
    }
    item.update(changes)
    return {"targetGroupPairInfoList": [item]}


@pytest.mark.parametrize(
    ("info", "code"),
    [
        ({}, "InvalidLoadBalancerInfoException"),
        ({"elbInfoList": [{"name": "x"}]}, "InvalidLoadBalancerInfoException"),
        (pair(targetGroups=[{"name": "blue"}]), "InvalidTargetGroupPairException"),
        (pair(targetGroups=[{"name": "a"}, {"name": "a"}]), "InvalidTargetGroupPairException"),
        (pair(prodTrafficRoute={"listenerArns": []}), "InvalidTargetGroupPairException"),
        (pair(testTrafficRoute={"listenerArns": ["arn:prod"]}),
         "InvalidTargetGroupPairException"),
    ],
)  # fmt: skip
def test_bad_load_balancer_info(info: dict[str, Any], code: str) -> None:
    with pytest.raises(ServiceError) as err:
        validation.load_balancer_info(info)
    assert err.value.code == code


def test_blue_green_defaults_and_limits() -> None:
    config = validation.blue_green({"deploymentReadyOption": {}})
    assert config["deploymentReadyOption"] == {
        "actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0,
    }  # fmt: skip
    assert config["terminateBlueInstancesOnDeploymentSuccess"]["action"] == "TERMINATE"
    for bad in (
        None,
        {"terminateBlueInstancesOnDeploymentSuccess": {"action": "KEEP_ALIVE"}},
        {"terminateBlueInstancesOnDeploymentSuccess": {"terminationWaitTimeInMinutes": 2881}},
        {"deploymentReadyOption": {"actionOnTimeout": "WAIT"}},
    ):
        with pytest.raises(ServiceError) as err:
            validation.blue_green(bad)
        assert err.value.code == "InvalidBlueGreenDeploymentConfigurationException"


def test_deployment_style_alarms_and_rollback() -> None:
    with pytest.raises(ServiceError) as err:
        validation.deployment_style({"deploymentType": "IN_PLACE"})
    assert err.value.code == "InvalidDeploymentStyleException"
    with pytest.raises(ServiceError) as err:
        validation.auto_rollback({"enabled": True, "events": []})
    assert err.value.code == "InvalidAutoRollbackConfigException"
    with pytest.raises(ServiceError) as err:
        validation.alarm_configuration({"enabled": True, "alarms": []})
    assert err.value.code == "InvalidAlarmConfigException"
    with pytest.raises(ServiceError) as err:
        validation.alarm_configuration({"alarms": [{"name": f"a{i}"} for i in range(11)]})
    assert err.value.code == "AlarmsLimitExceededException"


YAML_SPEC = """
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "web:3"
        LoadBalancerInfo:
          ContainerName: "web"
          ContainerPort: 8080
        PlatformVersion: "LATEST"
        NetworkConfiguration:
          AwsvpcConfiguration:
            Subnets: ["subnet-a"]
            SecurityGroups: ["sg-1"]
            AssignPublicIp: "DISABLED"
"""


def test_appspec_yaml_and_json() -> None:
    spec = appspec.parse_ecs(YAML_SPEC)
    assert (spec.task_definition, spec.container_name, spec.container_port) == ("web:3", "web",
                                                                                8080)  # fmt: skip
    assert spec.platform_version == "LATEST"
    assert spec.network_configuration == {
        "awsvpcConfiguration": {
            "subnets": ["subnet-a"],
            "securityGroups": ["sg-1"],
            "assignPublicIp": "DISABLED",
        }
    }
    doc = {
        "version": 0.0,
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": "arn:td",
                        "LoadBalancerInfo": {"ContainerName": "c", "ContainerPort": "80"},
                    },
                }
            }
        ],
    }
    assert appspec.parse_ecs(json.dumps(doc)).container_port == 80  # fmt: skip


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (YAML_SPEC + "Hooks:\n  - BeforeInstall: fn\n", "hooks"),
        ("version: 0.0\nResources: []\n", "exactly one resource"),
        (YAML_SPEC.replace('TaskDefinition: "web:3"', ""), "TaskDefinition"),
        (YAML_SPEC.replace("AWS::ECS::Service", "AWS::Lambda::Function"), "Type"),
        ("[unclosed", "neither valid JSON nor valid YAML"),
    ],
)
def test_bad_appspec(text: str, words: str) -> None:
    with pytest.raises(ServiceError) as err:
        appspec.parse_ecs(text)
    assert err.value.code == "InvalidRevisionException"
    assert words in err.value.message


def test_revision_types() -> None:
    with pytest.raises(ServiceError) as err:
        appspec.content_of({"revisionType": "S3", "s3Location": {}})
    assert err.value.code == "InvalidRevisionException"
    with pytest.raises(ServiceError) as err:
        appspec.content_of({"revisionType": "AppSpecContent",
                            "appSpecContent": {"content": "x", "sha256": "00"}})  # fmt: skip
    assert "sha256" in err.value.message
    assert appspec.content_of({"revisionType": "String", "string": {"content": "abc"}}) == "abc"


@pytest.fixture
def cd(tmp_path: Any) -> CodeDeploy:
    store = SqliteStore(str(tmp_path / "state.sqlite3"))
    return CodeDeploy(store, ManualClock())


def test_applications_configs_and_groups_are_durable(cd: CodeDeploy, tmp_path: Any) -> None:
    cd.create_application(SCOPE, "app", "ECS", {"team": "a"})
    with pytest.raises(ServiceError) as err:
        cd.create_application(SCOPE, "app", "ECS", {})
    assert err.value.code == "ApplicationAlreadyExistsException"
    cd.create_config(SCOPE, {"deploymentConfigName": "Canary20", "computePlatform": "ECS",
                             "trafficRoutingConfig": {"type": "TimeBasedCanary",
                              "timeBasedCanary": {"canaryPercentage": 20,
                                                  "canaryInterval": 1}}})  # fmt: skip
    group = cd.create_group(SCOPE, {
        "applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "arn:role",
        "deploymentConfigName": "Canary20",
        "ecsServices": [{"serviceName": "web", "clusterName": "default"}],
        "blueGreenDeploymentConfiguration": {},
        "loadBalancerInfo": pair(),
    })  # fmt: skip
    assert group.deployment_config_name == "Canary20"
    with pytest.raises(ServiceError) as err:
        cd.delete_config(SCOPE, "Canary20")
    assert err.value.code == "DeploymentConfigInUseException"
    with pytest.raises(ServiceError) as err:
        cd.delete_config(SCOPE, "CodeDeployDefault.ECSAllAtOnce")
    assert err.value.code == "InvalidOperationException"
    with pytest.raises(ServiceError) as err:
        cd.create_group(
            SCOPE,
            {
                "applicationName": "app",
                "deploymentGroupName": "h",
                "serviceRoleArn": "r",
                "deploymentConfigName": "CodeDeployDefault.OneAtATime",
            },
        )
    assert err.value.code == "InvalidDeploymentConfigNameException"
    again = CodeDeploy(SqliteStore(str(tmp_path / "state.sqlite3")), ManualClock())
    again.load()
    assert again.application(SCOPE, "app").tags == {"team": "a"}
    assert again.group(SCOPE, "app", "g").load_balancer_info == pair()
    assert again.config(SCOPE, "Canary20").traffic_routing == {
        "type": "TimeBasedCanary",
        "timeBasedCanary": {"canaryPercentage": 20, "canaryInterval": 1},
    }


def test_one_active_deployment_per_group_and_stop(cd: CodeDeploy) -> None:
    cd.create_application(SCOPE, "app", "ECS", {})
    cd.create_group(SCOPE, {
        "applicationName": "app", "deploymentGroupName": "g", "serviceRoleArn": "arn:role",
        "ecsServices": [{"serviceName": "web", "clusterName": "default"}],
        "blueGreenDeploymentConfiguration": {}, "loadBalancerInfo": pair(),
    })  # fmt: skip
    revision = {"revisionType": "AppSpecContent", "appSpecContent": {"content": YAML_SPEC}}
    d = cd.create_deployment(SCOPE, {"applicationName": "app", "deploymentGroupName": "g",
                                     "revision": revision})  # fmt: skip
    assert d.id.startswith("d-") and len(d.id) == 11 and d.status == "Created"
    assert d.config_name == "CodeDeployDefault.ECSAllAtOnce"
    with pytest.raises(ServiceError) as err:
        cd.create_deployment(SCOPE, {"applicationName": "app", "deploymentGroupName": "g",
                                     "revision": revision})  # fmt: skip
    assert err.value.code == "DeploymentLimitExceededException"
    with pytest.raises(ServiceError) as err:
        cd.continue_(SCOPE, d.id, None)
    assert err.value.code == "DeploymentIsNotInReadyStateException"
    assert cd.stop(SCOPE, d.id, True)["status"] == "Pending"
    assert d.stop_requested == "MANUAL_STOP" and d.stop_rollback
    with pytest.raises(ServiceError) as err:
        cd.deployment(SCOPE, "d-NOPE00000")
    assert err.value.code == "DeploymentDoesNotExistException"
