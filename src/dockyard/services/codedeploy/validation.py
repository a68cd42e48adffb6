"""CodeDeploy input rules beyond what the botocore shapes enforce."""

from __future__ import annotations

from typing import Any

from dockyard.services.codedeploy import errors as e
from dockyard.services.codedeploy.model import ComputePlatform

MAX_NAME = 100
MAX_DESCRIPTION = 1024  # rounded down from AWS's documented limit on a deployment description
MAX_ALARMS = 10
MAX_WAIT_MINUTES = 2880
ROLLBACK_EVENTS = ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST")
NOT_YET = "Dockyard runs CodeDeploy for the ECS compute platform only"


def application_name(name: str | None) -> str:
    if not name or len(name) > MAX_NAME:
        raise e.InvalidApplicationNameException(
            f"The application name must be 1 to {MAX_NAME} characters (applicationName)."
        )
    return name


def group_name(name: str | None, field: str = "deploymentGroupName") -> str:
    if not name or len(name) > MAX_NAME:
        raise e.InvalidDeploymentGroupNameException(
            f"The deployment group name must be 1 to {MAX_NAME} characters ({field})."
        )
    return name


def config_name(name: str | None) -> str:
    if not name or len(name) > MAX_NAME:
        raise e.InvalidDeploymentConfigNameException(
            f"The deployment config name must be 1 to {MAX_NAME} characters (deploymentConfigName)."
        )
    return name


def compute_platform(value: str | None, field: str = "computePlatform") -> str:
    """Only ECS runs; Server (EC2/on-premises) and Lambda are refused by name."""
    platform = value or ComputePlatform.SERVER
    if platform not in (ComputePlatform.ECS, ComputePlatform.SERVER, ComputePlatform.LAMBDA):
        raise e.InvalidComputePlatformException(f"Invalid compute platform: {platform} ({field}).")
    if platform != ComputePlatform.ECS:
        raise e.InvalidComputePlatformException(
            f"{NOT_YET}; the {platform} compute platform is not supported yet ({field}). "
            "Give computePlatform ECS."
        )
    return platform


def traffic_routing(config: dict[str, Any] | None) -> dict[str, Any]:
    """A checked TrafficRoutingConfig in its canonical form (AllAtOnce when none)."""
    config = dict(config or {})
    kind = config.get("type") or "AllAtOnce"
    if kind == "AllAtOnce":
        return {"type": "AllAtOnce"}
    if kind == "TimeBasedCanary":
        body = config.get("timeBasedCanary") or {}
        percent, interval = body.get("canaryPercentage"), body.get("canaryInterval")
        what = "timeBasedCanary.canaryPercentage and timeBasedCanary.canaryInterval"
        keys = ("canaryPercentage", "canaryInterval")
    elif kind == "TimeBasedLinear":
        body = config.get("timeBasedLinear") or {}
        percent, interval = body.get("linearPercentage"), body.get("linearInterval")
        what = "timeBasedLinear.linearPercentage and timeBasedLinear.linearInterval"
        keys = ("linearPercentage", "linearInterval")
    else:
        raise e.InvalidTrafficRoutingConfigurationException(
            f"Invalid traffic routing type: {kind} (trafficRoutingConfig.type)."
        )
    if percent is None or interval is None:
        raise e.InvalidTrafficRoutingConfigurationException(
            f"A {kind} traffic routing config needs {what} (trafficRoutingConfig)."
        )
    if not 1 <= int(percent) <= 99:
        raise e.InvalidTrafficRoutingConfigurationException(
            f"The traffic percentage must be between 1 and 99 ({keys[0]}: {percent})."
        )
    if not 1 <= int(interval) <= MAX_WAIT_MINUTES:
        raise e.InvalidTrafficRoutingConfigurationException(
            f"The interval must be between 1 and {MAX_WAIT_MINUTES} minutes "
            f"({keys[1]}: {interval})."
        )
    field = "timeBasedCanary" if kind == "TimeBasedCanary" else "timeBasedLinear"
    return {"type": kind, field: {keys[0]: int(percent), keys[1]: int(interval)}}


def deployment_style(style: dict[str, Any] | None) -> dict[str, str]:
    style = dict(style or {})
    kind = style.get("deploymentType") or "BLUE_GREEN"
    option = style.get("deploymentOption") or "WITH_TRAFFIC_CONTROL"
    if kind != "BLUE_GREEN" or option != "WITH_TRAFFIC_CONTROL":
        raise e.InvalidDeploymentStyleException(
            "An ECS deployment group's deploymentStyle must be BLUE_GREEN with "
            f"WITH_TRAFFIC_CONTROL ({kind}, {option})."
        )
    return {"deploymentType": kind, "deploymentOption": option}


def blue_green(config: dict[str, Any] | None) -> dict[str, Any]:
    """The ECS blueGreenDeploymentConfiguration with AWS's defaults filled in."""
    if config is None:
        raise e.InvalidBlueGreenDeploymentConfigurationException(
            "An ECS deployment group needs a blueGreenDeploymentConfiguration "
            "(blueGreenDeploymentConfiguration)."
        )
    if config.get("greenFleetProvisioningOption"):
        raise e.InvalidBlueGreenDeploymentConfigurationException(
            "greenFleetProvisioningOption does not apply to ECS deployment groups "
            "(blueGreenDeploymentConfiguration.greenFleetProvisioningOption)."
        )
    ready = dict(config.get("deploymentReadyOption") or {})
    action = ready.get("actionOnTimeout") or "CONTINUE_DEPLOYMENT"
    if action not in ("CONTINUE_DEPLOYMENT", "STOP_DEPLOYMENT"):
        raise e.InvalidBlueGreenDeploymentConfigurationException(
            f"Invalid actionOnTimeout: {action} (deploymentReadyOption.actionOnTimeout)."
        )
    wait = int(ready.get("waitTimeInMinutes") or 0)
    if not 0 <= wait <= MAX_WAIT_MINUTES:
        raise e.InvalidBlueGreenDeploymentConfigurationException(
            f"waitTimeInMinutes must be between 0 and {MAX_WAIT_MINUTES} "
            f"(deploymentReadyOption.waitTimeInMinutes: {wait})."
        )
    terminate = dict(config.get("terminateBlueInstancesOnDeploymentSuccess") or {})
    term_action = terminate.get("action") or "TERMINATE"
    if term_action != "TERMINATE":
        raise e.InvalidBlueGreenDeploymentConfigurationException(
            "ECS deployments always delete the original task set: "
            "terminateBlueInstancesOnDeploymentSuccess.action must be TERMINATE."
        )
    term_wait = int(terminate.get("terminationWaitTimeInMinutes") or 0)
    if not 0 <= term_wait <= MAX_WAIT_MINUTES:
        raise e.InvalidBlueGreenDeploymentConfigurationException(
            f"terminationWaitTimeInMinutes must be between 0 and {MAX_WAIT_MINUTES} "
            f"(terminateBlueInstancesOnDeploymentSuccess.terminationWaitTimeInMinutes: "
            f"{term_wait})."
        )
    return {
        "terminateBlueInstancesOnDeploymentSuccess": {
            "action": term_action, "terminationWaitTimeInMinutes": term_wait,
        },
        "deploymentReadyOption": {"actionOnTimeout": action, "waitTimeInMinutes": wait},
    }  # fmt: skip


def ecs_services(services: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    if not services or len(services) != 1:
        raise e.InvalidECSServiceException(
            "An ECS deployment group needs exactly one ECS service (ecsServices)."
        )
    item = services[0]
    if not item.get("serviceName") or not item.get("clusterName"):
        raise e.InvalidECSServiceException(
            "An ECS service needs a serviceName and a clusterName (ecsServices)."
        )
    return [{"serviceName": str(item["serviceName"]), "clusterName": str(item["clusterName"])}]


def load_balancer_info(info: dict[str, Any] | None) -> dict[str, Any]:
    """One target group pair: two target group names, one production listener, at most one
    test listener."""
    info = dict(info or {})
    if info.get("elbInfoList") or info.get("targetGroupInfoList"):
        raise e.InvalidLoadBalancerInfoException(
            "ECS deployment groups take a targetGroupPairInfoList, not elbInfoList or "
            "targetGroupInfoList (loadBalancerInfo)."
        )
    pairs = info.get("targetGroupPairInfoList") or []
    if len(pairs) != 1:
        raise e.InvalidLoadBalancerInfoException(
            "An ECS deployment group needs exactly one target group pair "
            "(loadBalancerInfo.targetGroupPairInfoList)."
        )
    pair = pairs[0]
    names = [str(g.get("name") or "") for g in pair.get("targetGroups") or []]
    if len(names) != 2 or not all(names) or names[0] == names[1]:
        raise e.InvalidTargetGroupPairException(
            "A target group pair needs two different target groups "
            "(targetGroupPairInfoList.targetGroups)."
        )
    prod = list((pair.get("prodTrafficRoute") or {}).get("listenerArns") or [])
    test = list((pair.get("testTrafficRoute") or {}).get("listenerArns") or [])
    if len(prod) != 1:
        raise e.InvalidTargetGroupPairException(
            "A target group pair needs exactly one production listener "
            "(targetGroupPairInfoList.prodTrafficRoute.listenerArns)."
        )
    if len(test) > 1:
        raise e.InvalidTargetGroupPairException(
            "A target group pair takes at most one test listener "
            "(targetGroupPairInfoList.testTrafficRoute.listenerArns)."
        )
    if test and test[0] == prod[0]:
        raise e.InvalidTargetGroupPairException(
            "The test listener must differ from the production listener "
            "(targetGroupPairInfoList.testTrafficRoute.listenerArns)."
        )
    out: dict[str, Any] = {
        "targetGroups": [{"name": n} for n in names],
        "prodTrafficRoute": {"listenerArns": prod},
    }
    if test:
        out["testTrafficRoute"] = {"listenerArns": test}
    return {"targetGroupPairInfoList": [out]}


def auto_rollback(config: dict[str, Any] | None) -> dict[str, Any]:
    if not config:
        return {}
    enabled = bool(config.get("enabled"))
    events = list(config.get("events") or [])
    for event in events:
        if event not in ROLLBACK_EVENTS:
            raise e.InvalidAutoRollbackConfigException(
                f"Invalid auto rollback event: {event} (autoRollbackConfiguration.events)."
            )
    if enabled and not events:
        raise e.InvalidAutoRollbackConfigException(
            "An enabled auto rollback configuration needs at least one event "
            "(autoRollbackConfiguration.events)."
        )
    return {"enabled": enabled, "events": events}


def alarm_configuration(config: dict[str, Any] | None) -> dict[str, Any]:
    if not config:
        return {}
    alarms = [{"name": str(a.get("name") or "")} for a in config.get("alarms") or []]
    if any(not a["name"] for a in alarms):
        raise e.InvalidAlarmConfigException("Every alarm needs a name (alarmConfiguration.alarms).")
    if len(alarms) > MAX_ALARMS:
        raise e.AlarmsLimitExceededException(
            f"The maximum number of alarms for a deployment group ({MAX_ALARMS}) was exceeded."
        )
    enabled = bool(config.get("enabled"))
    if enabled and not alarms:
        raise e.InvalidAlarmConfigException(
            "An enabled alarm configuration needs at least one alarm (alarmConfiguration.alarms)."
        )
    return {
        "enabled": enabled,
        "ignorePollAlarmFailure": bool(config.get("ignorePollAlarmFailure")),
        "alarms": alarms,
    }


def not_for_ecs(p: dict[str, Any]) -> None:
    """Refuse what an ECS deployment group cannot have, naming the field."""
    for name in ("ec2TagFilters", "onPremisesInstanceTagFilters", "autoScalingGroups",
                 "ec2TagSet", "onPremisesTagSet"):  # fmt: skip
        if p.get(name):
            raise e.InvalidInputException(
                f"{name} does not apply to ECS deployment groups ({name})."
            )
    if p.get("triggerConfigurations"):
        raise e.InvalidTriggerConfigException(
            "Dockyard does not send deployment notifications (SNS triggers) yet "
            "(triggerConfigurations)."
        )
    if p.get("outdatedInstancesStrategy") not in (None, "UPDATE", "IGNORE"):
        raise e.InvalidInputException("Invalid outdatedInstancesStrategy.")
    if p.get("terminationHookEnabled"):
        raise e.InvalidInputException(
            "terminationHookEnabled applies to Amazon EC2 Auto Scaling groups, not ECS "
            "(terminationHookEnabled)."
        )


def description(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_DESCRIPTION:
        raise e.DescriptionTooLongException(
            f"The description is too long (at most {MAX_DESCRIPTION} characters)."
        )
    return value


def tags(items: list[dict[str, Any]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key = item.get("Key")
        if not key:
            raise e.InvalidTagsToAddException("A tag needs a Key (tags).")
        out[str(key)] = str(item.get("Value") or "")
    return out
