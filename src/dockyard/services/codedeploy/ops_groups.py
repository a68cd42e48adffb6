"""Applications, deployment configs, deployment groups and tags."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.codedeploy import errors as e
from dockyard.services.codedeploy import validation
from dockyard.services.codedeploy.service import CodeDeploy
from dockyard.services.codedeploy.wire import (
    app_arn,
    application_to_wire,
    batch,
    config_to_wire,
    group_arn,
    group_to_wire,
    paged,
)


def handlers(cd: CodeDeploy) -> dict[str, Handler]:
    # Applications

    def create_application(ctx: RequestContext, p: Params) -> Result:
        app = cd.create_application(
            scope_of(ctx), p["applicationName"], p.get("computePlatform"),
            validation.tags(p.get("tags")),
        )  # fmt: skip
        return {"applicationId": app.id}

    def get_application(ctx: RequestContext, p: Params) -> Result:
        return {
            "application": application_to_wire(cd.application(scope_of(ctx), p["applicationName"]))
        }

    def batch_get_applications(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        names = batch(p.get("applicationNames"), "applicationNames")
        return {"applicationsInfo": [application_to_wire(cd.application(scope, n)) for n in names]}

    def list_applications(ctx: RequestContext, p: Params) -> Result:
        apps, token = paged(cd.apps_in(scope_of(ctx)), lambda a: a.name, p.get("nextToken"))
        out: Result = {"applications": [a.name for a in apps]}
        if token:
            out["nextToken"] = token
        return out

    def update_application(ctx: RequestContext, p: Params) -> Result:
        name = p.get("applicationName")
        new_name = p.get("newApplicationName")
        if name and new_name:
            cd.rename_application(scope_of(ctx), name, new_name)
        elif name:
            cd.application(scope_of(ctx), name)
        return {}

    def delete_application(ctx: RequestContext, p: Params) -> Result:
        cd.delete_application(scope_of(ctx), p["applicationName"])
        return {}

    # Deployment configs

    def create_deployment_config(ctx: RequestContext, p: Params) -> Result:
        return {"deploymentConfigId": cd.create_config(scope_of(ctx), p).id}

    def get_deployment_config(ctx: RequestContext, p: Params) -> Result:
        config = cd.config(scope_of(ctx), p["deploymentConfigName"])
        return {"deploymentConfigInfo": config_to_wire(config)}

    def list_deployment_configs(ctx: RequestContext, p: Params) -> Result:
        items, token = paged(cd.configs_in(scope_of(ctx)), lambda c: c.name, p.get("nextToken"))
        out: Result = {"deploymentConfigsList": [c.name for c in items]}
        if token:
            out["nextToken"] = token
        return out

    def delete_deployment_config(ctx: RequestContext, p: Params) -> Result:
        cd.delete_config(scope_of(ctx), p["deploymentConfigName"])
        return {}

    # Deployment groups

    def create_deployment_group(ctx: RequestContext, p: Params) -> Result:
        return {"deploymentGroupId": cd.create_group(scope_of(ctx), p).id}

    def get_deployment_group(ctx: RequestContext, p: Params) -> Result:
        group = cd.group(scope_of(ctx), p["applicationName"], p["deploymentGroupName"])
        return {"deploymentGroupInfo": group_to_wire(group)}

    def batch_get_deployment_groups(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        app = cd.application(scope, p["applicationName"])
        found, missing = [], []
        for name in batch(p.get("deploymentGroupNames"), "deploymentGroupNames"):
            group = cd.groups.get(scope.key(app.name, name))
            if group is None:
                missing.append(name)
            else:
                found.append(group_to_wire(group))
        out: Result = {"deploymentGroupsInfo": found}
        if missing:
            out["errorMessage"] = f"Deployment groups not found: {', '.join(missing)}"
        return out

    def list_deployment_groups(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        app = cd.application(scope, p["applicationName"])
        groups, token = paged(cd.groups_of(app), lambda g: g.name, p.get("nextToken"))
        out: Result = {"applicationName": app.name, "deploymentGroups": [g.name for g in groups]}
        if token:
            out["nextToken"] = token
        return out

    def update_deployment_group(ctx: RequestContext, p: Params) -> Result:
        cd.update_group(scope_of(ctx), p)
        return {"hooksNotCleanedUp": []}

    def delete_deployment_group(ctx: RequestContext, p: Params) -> Result:
        cd.delete_group(scope_of(ctx), p["applicationName"], p["deploymentGroupName"])
        return {"hooksNotCleanedUp": []}

    # Tags

    def tags_of(ctx: RequestContext, resource: str | None) -> dict[str, str]:
        if not resource:
            raise e.ResourceArnRequiredException("A resource ARN is required (ResourceArn).")
        scope = scope_of(ctx)
        for app in cd.apps_in(scope):
            if app_arn(app) == resource:
                return app.tags
            for group in cd.groups_of(app):
                if group_arn(group) == resource:
                    return group.tags
        if not resource.startswith("arn:"):
            raise e.InvalidArnException(f"The specified ARN is not in a valid format: {resource}")
        raise e.ArnNotSupportedException(
            f"The resource {resource} is not an application or a deployment group that exists."
        )

    def save_tags(ctx: RequestContext, resource: str) -> None:
        scope = scope_of(ctx)
        for app in cd.apps_in(scope):
            if app_arn(app) == resource:
                cd.save_app(app)
            for group in cd.groups_of(app):
                if group_arn(group) == resource:
                    cd.save_group(group)

    def list_tags_for_resource(ctx: RequestContext, p: Params) -> Result:
        tags = tags_of(ctx, p.get("ResourceArn"))
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}

    def tag_resource(ctx: RequestContext, p: Params) -> Result:
        tags_of(ctx, p.get("ResourceArn")).update(validation.tags(p.get("Tags")))
        save_tags(ctx, p["ResourceArn"])
        return {}

    def untag_resource(ctx: RequestContext, p: Params) -> Result:
        tags = tags_of(ctx, p.get("ResourceArn"))
        for key in p.get("TagKeys") or []:
            tags.pop(key, None)
        save_tags(ctx, p["ResourceArn"])
        return {}

    out: dict[str, Any] = {
        "CreateApplication": create_application,
        "GetApplication": get_application,
        "BatchGetApplications": batch_get_applications,
        "ListApplications": list_applications,
        "UpdateApplication": update_application,
        "DeleteApplication": delete_application,
        "CreateDeploymentConfig": create_deployment_config,
        "GetDeploymentConfig": get_deployment_config,
        "ListDeploymentConfigs": list_deployment_configs,
        "DeleteDeploymentConfig": delete_deployment_config,
        "CreateDeploymentGroup": create_deployment_group,
        "GetDeploymentGroup": get_deployment_group,
        "BatchGetDeploymentGroups": batch_get_deployment_groups,
        "ListDeploymentGroups": list_deployment_groups,
        "UpdateDeploymentGroup": update_deployment_group,
        "DeleteDeploymentGroup": delete_deployment_group,
        "ListTagsForResource": list_tags_for_resource,
        "TagResource": tag_resource,
        "UntagResource": untag_resource,
    }
    return out
