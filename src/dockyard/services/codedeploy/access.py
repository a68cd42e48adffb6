"""What CodeDeploy operations act on: applications
(`arn:aws:codedeploy:<region>:<account>:application:<name>`) and deployment groups
(`deploymentgroup:<application>/<group>`); iam:PassRole for a group's service role."""

from __future__ import annotations

from collections.abc import Iterable

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, passrole, table, values


def _application(req: AccessRequest) -> Iterable[str]:
    names = values(req.params, "applicationName") or values(req.params, "applicationNames")
    return [req.arn("codedeploy", f"application:{n}") for n in names]


def _group(req: AccessRequest) -> Iterable[str]:
    app = req.params.get("applicationName")
    groups = (
        values(req.params, "deploymentGroupName")
        or values(req.params, "currentDeploymentGroupName")
        or values(req.params, "deploymentGroupNames")
    )
    return [req.arn("codedeploy", f"deploymentgroup:{app}/{g}") for g in groups]


def _arn(req: AccessRequest) -> Iterable[str]:
    return values(req.params, "ResourceArn")


RESOURCES: dict[str, Resolver] = {
    "CreateApplication": _application,
    "GetApplication": _application,
    "DeleteApplication": _application,
    "UpdateApplication": _application,
    "BatchGetApplications": _application,
    "ListDeploymentGroups": _application,
    "CreateDeploymentGroup": _group,
    "GetDeploymentGroup": _group,
    "DeleteDeploymentGroup": _group,
    "UpdateDeploymentGroup": _group,
    "BatchGetDeploymentGroups": _group,
    "CreateDeployment": _group,
    "TagResource": _arn,
    "UntagResource": _arn,
    "ListTagsForResource": _arn,
}

SERVICE_ROLE = passrole(("serviceRoleArn",), "codedeploy.amazonaws.com")
ACCESS: AccessFunction = table(
    "codedeploy",
    RESOURCES,
    extra={"CreateDeploymentGroup": SERVICE_ROLE, "UpdateDeploymentGroup": SERVICE_ROLE},
)
