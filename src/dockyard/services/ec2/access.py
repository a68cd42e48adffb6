"""What EC2 operations act on, for authorization: `arn:aws:ec2:<region>:<account>:vpc/<id>`
(and `subnet/`, `security-group/`, `security-group-rule/`, `route-table/`,
`internet-gateway/`, `launch-template/`), with the record's tags (aws:ResourceTag/*).
Describe* and creates of new records act on `*`, as the Service Authorization Reference
lists most of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values
from dockyard.core.errors import ServiceError
from dockyard.core.scope import Scope
from dockyard.services.ec2 import ids
from dockyard.services.ec2.network.model import SecurityGroup
from dockyard.services.ec2.service import Ec2


def arn_of(req: AccessRequest, resource_id: str) -> str | None:
    kind = ids.type_of(resource_id)
    return req.arn("ec2", f"{kind}/{resource_id}") if kind else None


def _ids(*params: str) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        found = [arn_of(req, v) for p in params for v in values(req.params, p)]
        return [a for a in found if a]

    return resolve


def _both(*resolvers: Resolver) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        return [a for r in resolvers for a in r(req)]

    return resolve


def _group(ec2: Ec2) -> Resolver:
    """`GroupId`, or `GroupName` as found in the default VPC."""

    def resolve(req: AccessRequest) -> Iterable[str]:
        group_id = req.params.get("GroupId")
        name = req.params.get("GroupName")
        if not group_id and isinstance(name, str):
            try:
                group_id = ec2.groups.named(Scope(req.account_id, req.region), name).id
            except ServiceError:
                return []  # the handler answers InvalidGroup.NotFound
        return [a for a in [arn_of(req, str(group_id))] if a] if group_id else []

    return resolve


def _template(ec2: Ec2) -> Resolver:
    """`LaunchTemplateId`, or the id of the template `LaunchTemplateName` names."""

    def resolve(req: AccessRequest) -> Iterable[str]:
        template_id = req.params.get("LaunchTemplateId")
        name = req.params.get("LaunchTemplateName")
        if not template_id and isinstance(name, str):
            found = ec2.templates.named(Scope(req.account_id, req.region), name)
            template_id = found.id if found else None
        return [a for a in [arn_of(req, str(template_id))] if a] if template_id else []

    return resolve


def _association(ec2: Ec2) -> Resolver:
    def resolve(req: AccessRequest) -> Iterable[str]:
        try:
            found = ec2.routes.association(
                Scope(req.account_id, req.region), str(req.params.get("AssociationId") or "")
            )
        except ServiceError:
            return []
        return [a for a in [arn_of(req, found.id)] if a]

    return resolve


def resolvers(ec2: Ec2) -> dict[str, Resolver]:
    vpc, subnet, table_ = _ids("VpcId"), _ids("SubnetId"), _ids("RouteTableId")
    gateway, group = _ids("InternetGatewayId"), _group(ec2)
    return {
        "DeleteVpc": vpc,
        "ModifyVpcAttribute": vpc,
        "DescribeVpcAttribute": vpc,
        "CreateSubnet": vpc,
        "DeleteSubnet": subnet,
        "ModifySubnetAttribute": subnet,
        "CreateSecurityGroup": vpc,
        "DeleteSecurityGroup": group,
        "AuthorizeSecurityGroupIngress": group,
        "AuthorizeSecurityGroupEgress": group,
        "RevokeSecurityGroupIngress": group,
        "RevokeSecurityGroupEgress": group,
        "UpdateSecurityGroupRuleDescriptionsIngress": group,
        "UpdateSecurityGroupRuleDescriptionsEgress": group,
        "ModifySecurityGroupRules": group,
        "CreateRouteTable": vpc,
        "DeleteRouteTable": table_,
        "CreateRoute": table_,
        "DeleteRoute": table_,
        "AssociateRouteTable": _both(table_, subnet),
        "DisassociateRouteTable": _association(ec2),
        "ReplaceRouteTableAssociation": _both(table_, _association(ec2)),
        "AttachInternetGateway": _both(gateway, vpc),
        "DetachInternetGateway": _both(gateway, vpc),
        "DeleteInternetGateway": gateway,
        "CreateLaunchTemplateVersion": _template(ec2),
        "ModifyLaunchTemplate": _template(ec2),
        "DeleteLaunchTemplate": _template(ec2),
        "DeleteLaunchTemplateVersions": _template(ec2),
        "StopInstances": _ids("InstanceIds"),
        "StartInstances": _ids("InstanceIds"),
        "RebootInstances": _ids("InstanceIds"),
        "TerminateInstances": _ids("InstanceIds"),
        "ModifyInstanceMetadataOptions": _ids("InstanceId"),
        "DescribeInstanceAttribute": _ids("InstanceId"),
        "GetConsoleOutput": _ids("InstanceId"),
        "CreateTags": _ids("Resources"),
        "DeleteTags": _ids("Resources"),
    }


def access(ec2: Ec2) -> AccessFunction:
    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        resource_id = arn.rsplit("/", 1)[-1]
        scope = Scope(req.account_id, req.region)
        record = ec2.records.by_scope.get(scope, {}).get(resource_id)
        if record is not None:
            return dict(record.tags)
        for group in ec2.records.all(scope, SecurityGroup):
            for rule in group.rules:
                if rule.id == resource_id:
                    return dict(rule.tags)
        return None

    return table("ec2", resolvers(ec2), tags=tags)
