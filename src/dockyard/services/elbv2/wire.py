"""Domain objects in ELBv2's output shapes, and the input shapes that several operations share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dockyard.api.provider import Params
from dockyard.core.paging import InvalidToken, page
from dockyard.services.elbv2.actions import action_to_wire, condition_to_wire
from dockyard.services.elbv2.directory import Directory
from dockyard.services.elbv2.errors import (
    ValidationError,
)
from dockyard.services.elbv2.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Rule,
    TargetGroup,
)

Result = dict[str, Any]


def lb_to_wire(lb: LoadBalancer) -> Result:
    out: Result = {
        "LoadBalancerArn": lb.arn,
        "DNSName": lb.dns_name,
        "CanonicalHostedZoneId": "Z35SXDOTRQ7X7K" if lb.type == "application" else "Z26RNL4JYFTOTI",
        "CreatedTime": lb.created,
        "LoadBalancerName": lb.name,
        "Scheme": lb.scheme,
        "VpcId": lb.vpc_id,
        "State": {"Code": lb.state},
        "Type": lb.type,
        "AvailabilityZones": [
            {"ZoneName": s.availability_zone, "SubnetId": s.subnet_id} for s in lb.subnets
        ],
        "IpAddressType": lb.ip_address_type,
    }
    if lb.security_groups:
        out["SecurityGroups"] = list(lb.security_groups)
    return out


def tg_to_wire(tg: TargetGroup, directory: Directory) -> Result:
    hc = tg.health_check
    out: Result = {
        "TargetGroupArn": tg.arn,
        "TargetGroupName": tg.name,
        "HealthCheckProtocol": hc.protocol,
        "HealthCheckPort": hc.port,
        "HealthCheckEnabled": hc.enabled,
        "HealthCheckIntervalSeconds": hc.interval,
        "HealthCheckTimeoutSeconds": hc.timeout,
        "HealthyThresholdCount": hc.healthy_threshold,
        "UnhealthyThresholdCount": hc.unhealthy_threshold,
        "LoadBalancerArns": directory.lbs_of_tg(tg.arn),
        "TargetType": tg.target_type,
        "IpAddressType": tg.ip_address_type,
    }
    if tg.protocol is not None:
        out["Protocol"] = tg.protocol
    if tg.port is not None:
        out["Port"] = tg.port
    if tg.vpc_id is not None:
        out["VpcId"] = tg.vpc_id
    if tg.protocol_version is not None:
        out["ProtocolVersion"] = tg.protocol_version
    if hc.path is not None:
        out["HealthCheckPath"] = hc.path
    if hc.matcher is not None:
        out["Matcher"] = {"HttpCode": hc.matcher}
    return out


def listener_to_wire(listener: Listener) -> Result:
    out: Result = {
        "ListenerArn": listener.arn,
        "LoadBalancerArn": listener.load_balancer_arn,
        "Port": listener.port,
        "Protocol": listener.protocol,
        "DefaultActions": [action_to_wire(a, i) for i, a in enumerate(listener.default_actions)],
    }
    if listener.certificates:
        out["Certificates"] = [{"CertificateArn": listener.certificates[0]}]
    if listener.ssl_policy:
        out["SslPolicy"] = listener.ssl_policy
    if listener.alpn_policy:
        out["AlpnPolicy"] = list(listener.alpn_policy)
    return out


def rule_to_wire(rule: Rule) -> Result:
    return {
        "RuleArn": rule.arn,
        "Priority": str(rule.priority),
        "Conditions": [condition_to_wire(c) for c in rule.conditions],
        "Actions": [action_to_wire(a, i) for i, a in enumerate(rule.actions)],
        "IsDefault": False,
    }


def default_rule_to_wire(listener: Listener) -> Result:
    return {
        "RuleArn": listener.default_rule_arn,
        "Priority": "default",
        "Conditions": [],
        "Actions": [action_to_wire(a, i) for i, a in enumerate(listener.default_actions)],
        "IsDefault": True,
    }


def attributes_to_wire(attributes: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(attributes.items())]


def tags_to_wire(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def health_check_from(p: Mapping[str, Any], base: HealthCheck) -> HealthCheck:
    """A health check: `base` (AWS's defaults, or the current one) with what `p` sets."""
    hc = HealthCheck(
        enabled=bool(p.get("HealthCheckEnabled", base.enabled)),
        protocol=str(p.get("HealthCheckProtocol") or base.protocol),
        port=str(p.get("HealthCheckPort") or base.port),
        path=p.get("HealthCheckPath", base.path),
        interval=int(p.get("HealthCheckIntervalSeconds", base.interval)),
        timeout=int(p.get("HealthCheckTimeoutSeconds", base.timeout)),
        healthy_threshold=int(p.get("HealthyThresholdCount", base.healthy_threshold)),
        unhealthy_threshold=int(p.get("UnhealthyThresholdCount", base.unhealthy_threshold)),
        matcher=base.matcher,
    )
    matcher = p.get("Matcher")
    if matcher is not None:
        if matcher.get("GrpcCode"):
            raise ValidationError("Dockyard target groups do not speak gRPC (Matcher.GrpcCode)")
        hc.matcher = str(matcher.get("HttpCode") or "")
    if hc.protocol == "TCP":
        if "HealthCheckPath" not in p:
            hc.path = None
        if matcher is None:
            hc.matcher = None
    elif base.protocol == "TCP":
        hc.path = hc.path or "/"
        hc.matcher = hc.matcher or "200"
    return hc


def paged(items: list[Any], key: Any, p: Params, out_key: str, wire: Any) -> Result:
    try:
        chunk, token = page(items, key, p.get("Marker"), p.get("PageSize"), 400)
    except InvalidToken as exc:
        raise ValidationError("The marker is not valid") from exc
    out: Result = {out_key: [wire(i) for i in chunk]}
    if token:
        out["NextMarker"] = token
    return out
