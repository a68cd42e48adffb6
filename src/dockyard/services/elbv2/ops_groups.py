"""Target group operations: groups, their attributes, targets and target health."""

from __future__ import annotations

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.elbv2 import defaults, validation
from dockyard.services.elbv2.errors import TargetGroupNotFound, ValidationError
from dockyard.services.elbv2.model import TargetGroup
from dockyard.services.elbv2.service import Elbv2
from dockyard.services.elbv2.wire import attributes_to_wire, health_check_from, paged, tg_to_wire


def handlers(elb: Elbv2) -> dict[str, Handler]:
    d = elb.directory

    def wire(tg: TargetGroup) -> Result:
        return tg_to_wire(tg, d)

    def create_target_group(ctx: RequestContext, p: Params) -> Result:
        target_type = p.get("TargetType") or "instance"
        protocol = p.get("Protocol")
        hc_protocol = p.get("HealthCheckProtocol") or (
            protocol if protocol in ("HTTP", "HTTPS", "TCP") else None
        )
        base = defaults.health_check(hc_protocol if hc_protocol else protocol)
        if hc_protocol and protocol == "TCP" and hc_protocol != "TCP":
            base.protocol = hc_protocol
        tg = elb.create_target_group(
            scope_of(ctx),
            p["Name"],
            target_type=target_type,
            protocol=protocol,
            port=p.get("Port"),
            vpc_id=p.get("VpcId"),
            protocol_version=p.get("ProtocolVersion"),
            ip_address_type=p.get("IpAddressType") or "ipv4",
            health_check=health_check_from(p, base),
            tags=validation.tags(p.get("Tags")),
        )
        return {"TargetGroups": [wire(tg)]}

    def describe_target_groups(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        arns, names, lb_arn = p.get("TargetGroupArns"), p.get("Names"), p.get("LoadBalancerArn")
        if sum(1 for x in (arns, names, lb_arn) if x) > 1:
            raise ValidationError(
                "Target group ARNs, names and a load balancer ARN cannot be combined"
            )
        if arns:
            groups = [d.tg(scope, a) for a in arns]
        elif names:
            groups = []
            for name in names:
                found = d.tg_by_name(scope, name)
                if found is None:
                    raise TargetGroupNotFound(f"One or more target groups not found: '{name}'")
                groups.append(found)
        else:
            groups = [
                tg for tg in d.target_groups.values()
                if (tg.account_id, tg.region) == (scope.account_id, scope.region)
            ]  # fmt: skip
            if lb_arn:
                lb = d.lb(scope, lb_arn)
                groups = [tg for tg in groups if lb.arn in d.lbs_of_tg(tg.arn)]
        groups.sort(key=lambda tg: tg.arn)
        return paged(groups, lambda tg: tg.arn, p, "TargetGroups", wire)

    def modify_target_group(ctx: RequestContext, p: Params) -> Result:
        tg = d.tg(scope_of(ctx), p["TargetGroupArn"])
        elb.modify_target_group(tg, health_check_from(p, tg.health_check))
        return {"TargetGroups": [wire(tg)]}

    def delete_target_group(ctx: RequestContext, p: Params) -> Result:
        try:
            tg = d.tg(scope_of(ctx), p["TargetGroupArn"])
        except TargetGroupNotFound:
            return {}
        elb.delete_target_group(tg)
        return {}

    def describe_target_group_attributes(ctx: RequestContext, p: Params) -> Result:
        tg = d.tg(scope_of(ctx), p["TargetGroupArn"])
        return {"Attributes": attributes_to_wire(tg.attributes)}

    def modify_target_group_attributes(ctx: RequestContext, p: Params) -> Result:
        tg = d.tg(scope_of(ctx), p["TargetGroupArn"])
        elb.set_tg_attributes(tg, p["Attributes"])
        return {"Attributes": attributes_to_wire(tg.attributes)}

    def register_targets(ctx: RequestContext, p: Params) -> Result:
        tg = d.tg(scope_of(ctx), p["TargetGroupArn"])
        elb.register_targets(
            tg, [(t["Id"], t.get("Port"), t.get("AvailabilityZone")) for t in p["Targets"]]
        )
        return {}

    def deregister_targets(ctx: RequestContext, p: Params) -> Result:
        tg = d.tg(scope_of(ctx), p["TargetGroupArn"])
        elb.deregister_targets(tg, [(t["Id"], t.get("Port")) for t in p["Targets"]])
        return {}

    def describe_target_health(ctx: RequestContext, p: Params) -> Result:
        tg = d.tg(scope_of(ctx), p["TargetGroupArn"])
        asked = p.get("Targets")
        if asked:
            keys = [
                (t["Id"], t.get("Port") if t.get("Port") is not None else tg.port) for t in asked
            ]
        else:
            keys = [(t.target_id, t.port) for t in tg.targets.values()]
        out = []
        for target_id, port in keys:
            registered = tg.targets.get(f"{target_id}:{port}")
            health = elb.target_health(tg, f"{target_id}:{port}")
            target: Result = {"Id": target_id}
            if port is not None:
                target["Port"] = port
            if registered is not None and registered.availability_zone:
                target["AvailabilityZone"] = registered.availability_zone
            state: Result = {"State": health.state}
            if health.reason:
                state["Reason"] = health.reason
            if health.description:
                state["Description"] = health.description
            hc_port = tg.health_check.port
            out.append({
                "Target": target,
                "HealthCheckPort": str(port) if hc_port == "traffic-port" else hc_port,
                "TargetHealth": state,
            })  # fmt: skip
        return {"TargetHealthDescriptions": out}

    return {
        "CreateTargetGroup": create_target_group,
        "DescribeTargetGroups": describe_target_groups,
        "ModifyTargetGroup": modify_target_group,
        "DeleteTargetGroup": delete_target_group,
        "DescribeTargetGroupAttributes": describe_target_group_attributes,
        "ModifyTargetGroupAttributes": modify_target_group_attributes,
        "RegisterTargets": register_targets,
        "DeregisterTargets": deregister_targets,
        "DescribeTargetHealth": describe_target_health,
    }
