"""What ECS operations act on (Service Authorization Reference): clusters
(`arn:aws:ecs:<region>:<account>:cluster/<name>`), services (`service/<cluster>/<name>`),
tasks (`task/<cluster>/<id>`), task definitions (`task-definition/<family>:<revision>`),
container instances and capacity providers; iam:PassRole for the roles a task definition,
a service or a task override names."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from dockyard.api.access import (
    AccessFunction,
    AccessRequest,
    Resolver,
    combine,
    passrole,
    table,
    values,
)
from dockyard.core.errors import ServiceError

TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"


def _cluster_name(req: AccessRequest) -> str:
    value = str(req.params.get("cluster") or "default")
    return value.rpartition("/")[2] if value.startswith("arn:") else value


def _clusters(param: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        names = values(req.params, param) or ([] if param == "clusters" else ["default"])
        return [n if n.startswith("arn:") else req.arn("ecs", f"cluster/{n}") for n in names]

    return resolve


def _in_cluster(kind: str, param: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        cluster = _cluster_name(req)
        return [
            v if v.startswith("arn:") else req.arn("ecs", f"{kind}/{cluster}/{v}")
            for v in values(req.params, param)
        ]

    return resolve


def _taskdef(param: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        out = []
        for v in values(req.params, param):
            if v.startswith("arn:"):
                out.append(v)
            else:
                out.append(req.arn("ecs", f"task-definition/{v if ':' in v else v + ':*'}"))
        return out

    return resolve


def _new_taskdef(req: AccessRequest) -> Iterable[str]:
    return [req.arn("ecs", f"task-definition/{req.params['family']}:*")]


def _arn(req: AccessRequest) -> Iterable[str]:
    return values(req.params, "resourceArn")


def _capacity(param: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        return [
            v if v.startswith("arn:") else req.arn("ecs", f"capacity-provider/{v}")
            for v in values(req.params, param)
        ]

    return resolve


CLUSTER = _clusters("cluster")
SERVICE = _in_cluster("service", "service")
RESOURCES: dict[str, Resolver] = {
    "CreateCluster": _clusters("clusterName"),
    "DeleteCluster": CLUSTER,
    "UpdateCluster": CLUSTER,
    "UpdateClusterSettings": CLUSTER,
    "PutClusterCapacityProviders": CLUSTER,
    "DescribeClusters": _clusters("clusters"),
    "ListServices": CLUSTER,
    "ListTasks": CLUSTER,
    "ListContainerInstances": CLUSTER,
    "RegisterContainerInstance": CLUSTER,
    "CreateService": _in_cluster("service", "serviceName"),
    "UpdateService": SERVICE,
    "DeleteService": SERVICE,
    "DescribeServices": _in_cluster("service", "services"),
    "CreateTaskSet": SERVICE,
    "DescribeTaskSets": SERVICE,
    "DeleteTaskSet": SERVICE,
    "UpdateTaskSet": SERVICE,
    "UpdateServicePrimaryTaskSet": SERVICE,
    "ListServiceDeployments": SERVICE,
    "RunTask": _taskdef("taskDefinition"),
    "StartTask": _taskdef("taskDefinition"),
    "StopTask": _in_cluster("task", "task"),
    "DescribeTasks": _in_cluster("task", "tasks"),
    "GetTaskProtection": _in_cluster("task", "tasks"),
    "UpdateTaskProtection": _in_cluster("task", "tasks"),
    "DescribeContainerInstances": _in_cluster("container-instance", "containerInstances"),
    "DeregisterContainerInstance": _in_cluster("container-instance", "containerInstance"),
    "UpdateContainerInstancesState": _in_cluster("container-instance", "containerInstances"),
    "RegisterTaskDefinition": _new_taskdef,
    "DescribeTaskDefinition": _taskdef("taskDefinition"),
    "DeregisterTaskDefinition": _taskdef("taskDefinition"),
    "DeleteTaskDefinitions": _taskdef("taskDefinitions"),
    "CreateCapacityProvider": _capacity("name"),
    "UpdateCapacityProvider": _capacity("name"),
    "DeleteCapacityProvider": _capacity("capacityProvider"),
    "DescribeCapacityProviders": _capacity("capacityProviders"),
    "TagResource": _arn,
    "UntagResource": _arn,
    "ListTagsForResource": _arn,
}

TASK_ROLES = combine(
    passrole(("taskRoleArn",), TASKS_PRINCIPAL),
    passrole(("executionRoleArn",), TASKS_PRINCIPAL),
)
OVERRIDE_ROLES = combine(
    passrole(("overrides", "taskRoleArn"), TASKS_PRINCIPAL),
    passrole(("overrides", "executionRoleArn"), TASKS_PRINCIPAL),
)

EXTRA: dict[str, AccessFunction] = {
    "RegisterTaskDefinition": TASK_ROLES,
    "RunTask": OVERRIDE_ROLES,
    "StartTask": OVERRIDE_ROLES,
    "CreateService": passrole(("role",), "ecs.amazonaws.com"),
}


def access(tags_of: Callable[[str], dict[str, str]]) -> AccessFunction:
    """ECS's access function; `tags_of` answers a resource's tags (aws:ResourceTag/*) and
    raises for one that does not exist."""

    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        try:
            return dict(tags_of(arn))
        except ServiceError:
            return None

    return table("ecs", RESOURCES, extra=EXTRA, tags=tags)
