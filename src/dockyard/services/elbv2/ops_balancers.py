"""Load balancer operations and tags: request in, domain call, output out."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.core.scope import Scope
from dockyard.services.elbv2 import validation
from dockyard.services.elbv2.errors import (
    LoadBalancerNotFound,
    RuleNotFound,
    ValidationError,
)
from dockyard.services.elbv2.model import Listener, LoadBalancer, Rule, TargetGroup
from dockyard.services.elbv2.service import Elbv2
from dockyard.services.elbv2.wire import attributes_to_wire, lb_to_wire, paged, tags_to_wire

Tagged = LoadBalancer | TargetGroup | Listener | Rule


def handlers(elb: Elbv2) -> dict[str, Handler]:
    d = elb.directory

    def create_load_balancer(ctx: RequestContext, p: Params) -> Result:
        subnets = list(p.get("Subnets") or [])
        subnets += [m["SubnetId"] for m in p.get("SubnetMappings") or [] if m.get("SubnetId")]
        lb = elb.create_load_balancer(
            scope_of(ctx),
            p["Name"],
            lb_type=p.get("Type") or "application",
            scheme=p.get("Scheme") or "internet-facing",
            ip_address_type=p.get("IpAddressType") or "ipv4",
            subnets=subnets,
            security_groups=list(p.get("SecurityGroups") or []),
            tags=validation.tags(p.get("Tags")),
        )
        return {"LoadBalancers": [lb_to_wire(lb)]}

    def describe_load_balancers(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        arns, names = p.get("LoadBalancerArns"), p.get("Names")
        if arns and names:
            raise ValidationError(
                "Load balancer names and load balancer ARNs cannot be specified at the same time"
            )
        if arns:
            lbs = [d.lb(scope, a) for a in arns]
        elif names:
            lbs = []
            for name in names:
                found = d.lb_by_name(scope, name)
                if found is None:
                    raise LoadBalancerNotFound(f"Load balancers '[{name}]' not found")
                lbs.append(found)
        else:
            lbs = [
                lb for lb in d.load_balancers.values()
                if (lb.account_id, lb.region) == (scope.account_id, scope.region)
            ]  # fmt: skip
        lbs.sort(key=lambda lb: lb.arn)
        return paged(lbs, lambda lb: lb.arn, p, "LoadBalancers", lb_to_wire)

    def delete_load_balancer(ctx: RequestContext, p: Params) -> Result:
        try:
            lb = d.lb(scope_of(ctx), p["LoadBalancerArn"])
        except LoadBalancerNotFound:
            return {}  # AWS: deleting a load balancer that is gone succeeds
        elb.delete_load_balancer(lb)
        return {}

    def describe_load_balancer_attributes(ctx: RequestContext, p: Params) -> Result:
        lb = d.lb(scope_of(ctx), p["LoadBalancerArn"])
        return {"Attributes": attributes_to_wire(lb.attributes)}

    def modify_load_balancer_attributes(ctx: RequestContext, p: Params) -> Result:
        lb = d.lb(scope_of(ctx), p["LoadBalancerArn"])
        elb.set_lb_attributes(lb, p["Attributes"])
        return {"Attributes": attributes_to_wire(lb.attributes)}

    def tagged(scope: Scope, arn: str) -> Tagged:
        resource = arn.split(":", 5)[-1]
        if resource.startswith("loadbalancer/"):
            return d.lb(scope, arn)
        if resource.startswith("targetgroup/"):
            return d.tg(scope, arn)
        if resource.startswith("listener/"):
            return d.listener(scope, arn)
        if resource.startswith("listener-rule/"):
            found = d.rules.get(arn)
            if found is None:
                raise RuleNotFound(f"One or more rules not found: '{arn}'")
            return found
        raise ValidationError(f"'{arn}' is not a valid Elastic Load Balancing resource ARN")

    def save(item: Tagged) -> None:
        if isinstance(item, LoadBalancer):
            d.save_lb(item)
        elif isinstance(item, TargetGroup):
            d.save_tg(item)
        elif isinstance(item, Listener):
            d.save_listener(item)
        else:
            d.save_rule(item)

    def add_tags(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        items = [tagged(scope, a) for a in p["ResourceArns"]]
        for item in items:
            new = validation.tags(p["Tags"])
            validation.tags(
                [{"Key": k} for k in {**item.tags, **new}], 0
            )  # the merged set within the limit
            item.tags.update(new)
            save(item)
        return {}

    def remove_tags(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        for item in [tagged(scope, a) for a in p["ResourceArns"]]:
            for key in p["TagKeys"]:
                item.tags.pop(key, None)
            save(item)
        return {}

    def describe_tags(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        if len(p["ResourceArns"]) > 20:
            raise ValidationError("At most 20 resource ARNs can be described at once")
        out = []
        for arn in p["ResourceArns"]:
            item = tagged(scope, arn)
            out.append({"ResourceArn": arn, "Tags": tags_to_wire(item.tags)})
        return {"TagDescriptions": out}

    def describe_account_limits(ctx: RequestContext, p: Params) -> Result:
        limits = {
            "application-load-balancers": "50",
            "target-groups": "3000",
            "targets-per-application-load-balancer": "1000",
            "listeners-per-application-load-balancer": "50",
            "rules-per-application-load-balancer": "100",
            "network-load-balancers": "50",
            "targets-per-network-load-balancer": "3000",
            "listeners-per-network-load-balancer": "50",
        }
        return {"Limits": [{"Name": k, "Max": v} for k, v in limits.items()]}

    return {
        "CreateLoadBalancer": create_load_balancer,
        "DescribeLoadBalancers": describe_load_balancers,
        "DeleteLoadBalancer": delete_load_balancer,
        "DescribeLoadBalancerAttributes": describe_load_balancer_attributes,
        "ModifyLoadBalancerAttributes": modify_load_balancer_attributes,
        "AddTags": add_tags,
        "RemoveTags": remove_tags,
        "DescribeTags": describe_tags,
        "DescribeAccountLimits": describe_account_limits,
    }
