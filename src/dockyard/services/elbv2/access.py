"""What Elastic Load Balancing operations act on: the load balancer, target group, listener
or rule ARNs they name (`arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/
<name>/<id>`, ...); a load balancer or target group being created is `.../<name>/*`; the
Describe operations act on `*`, as AWS lists them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dockyard.api.access import AccessFunction, AccessRequest, Resolver, table, values
from dockyard.services.elbv2.service import Elbv2

ARN_PARAMS = (
    "LoadBalancerArn", "TargetGroupArn", "ListenerArn", "RuleArn", "ResourceArns", "RuleArns",
)  # fmt: skip


def _named(req: AccessRequest) -> Iterable[str]:
    out: list[str] = []
    for param in ARN_PARAMS:
        out += values(req.params, param)
    for priority in req.params.get("RulePriorities") or []:
        if isinstance(priority.get("RuleArn"), str):
            out.append(priority["RuleArn"])
    return out


def _new_balancer(req: AccessRequest) -> Iterable[str]:
    kind = {"network": "net", "gateway": "gwy"}.get(str(req.params.get("Type")), "app")
    return [req.arn("elasticloadbalancing", f"loadbalancer/{kind}/{req.params['Name']}/*")]


def _new_group(req: AccessRequest) -> Iterable[str]:
    return [req.arn("elasticloadbalancing", f"targetgroup/{req.params['Name']}/*")]


OPS = (
    "DeleteLoadBalancer", "ModifyLoadBalancerAttributes", "SetSecurityGroups", "SetSubnets",
    "SetIpAddressType", "DeleteTargetGroup", "ModifyTargetGroup", "ModifyTargetGroupAttributes",
    "RegisterTargets", "DeregisterTargets", "CreateListener", "DeleteListener", "ModifyListener",
    "AddListenerCertificates", "RemoveListenerCertificates", "CreateRule", "DeleteRule",
    "ModifyRule", "SetRulePriorities", "AddTags", "RemoveTags",
)  # fmt: skip
RESOURCES: dict[str, Resolver] = {op: _named for op in OPS}
RESOURCES["CreateLoadBalancer"] = _new_balancer
RESOURCES["CreateTargetGroup"] = _new_group


def access(elb: Elbv2) -> AccessFunction:
    """ELBv2's access function, with load balancers' and target groups' tags."""

    def tags(req: AccessRequest, arn: str) -> Mapping[str, str] | None:
        d = elb.directory
        for known in (d.load_balancers, d.target_groups, d.listeners, d.rules):
            found = known.get(arn)
            if found is not None:
                return dict(found.tags)
        return None

    return table("elasticloadbalancing", RESOURCES, tags=tags)
