"""Listener and rule operations."""

from __future__ import annotations

from typing import Any

from dockyard.api.context import RequestContext, scope_of
from dockyard.api.provider import Handler, Params, Result
from dockyard.services.elbv2 import validation
from dockyard.services.elbv2.actions import parse_actions, parse_conditions
from dockyard.services.elbv2.errors import SSLPolicyNotFound, ValidationError
from dockyard.services.elbv2.model import Listener, Rule
from dockyard.services.elbv2.service import Elbv2
from dockyard.services.elbv2.wire import default_rule_to_wire, listener_to_wire, paged, rule_to_wire

SSL_POLICIES = (
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
)


def certificates(p: Params) -> list[str] | None:
    items = p.get("Certificates")
    if items is None:
        return None
    return [str(c["CertificateArn"]) for c in items if c.get("CertificateArn")]


def ssl_policy(p: Params) -> str | None:
    value = p.get("SslPolicy")
    if value is not None and value not in SSL_POLICIES:
        raise SSLPolicyNotFound(f"SSL policy '{value}' not found")
    return value


def handlers(elb: Elbv2) -> dict[str, Handler]:
    d = elb.directory

    def network(listener_or_lb_arn: str) -> bool:
        return ":loadbalancer/net/" in listener_or_lb_arn or ":listener/net/" in listener_or_lb_arn

    def create_listener(ctx: RequestContext, p: Params) -> Result:
        lb = d.lb(scope_of(ctx), p["LoadBalancerArn"])
        protocol = p.get("Protocol") or ("HTTP" if lb.type == "application" else "TCP")
        listener = elb.create_listener(
            lb,
            port=p["Port"] if p.get("Port") is not None else (443 if protocol == "HTTPS" else 80),
            protocol=protocol,
            actions=parse_actions(p["DefaultActions"], network=lb.type == "network"),
            certificates=certificates(p) or [],
            ssl_policy=ssl_policy(p),
            alpn_policy=list(p.get("AlpnPolicy") or []),
            tags=validation.tags(p.get("Tags")),
        )
        return {"Listeners": [listener_to_wire(listener)]}

    def describe_listeners(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        arns, lb_arn = p.get("ListenerArns"), p.get("LoadBalancerArn")
        if arns and lb_arn:
            raise ValidationError(
                "Listener ARNs and a load balancer ARN cannot be specified at the same time"
            )
        if arns:
            listeners = [d.listener(scope, a) for a in arns]
        elif lb_arn:
            listeners = d.listeners_of(d.lb(scope, lb_arn))
        else:
            raise ValidationError("You must specify either listener ARNs or a load balancer ARN")
        return paged(listeners, lambda li: li.arn, p, "Listeners", listener_to_wire)

    def modify_listener(ctx: RequestContext, p: Params) -> Result:
        listener = d.listener(scope_of(ctx), p["ListenerArn"])
        actions = p.get("DefaultActions")
        updated = elb.modify_listener(
            listener,
            port=p.get("Port"),
            protocol=p.get("Protocol"),
            actions=parse_actions(actions, network=network(listener.arn)) if actions else None,
            certificates=certificates(p),
            ssl_policy=ssl_policy(p),
        )
        return {"Listeners": [listener_to_wire(updated)]}

    def delete_listener(ctx: RequestContext, p: Params) -> Result:
        elb.delete_listener(d.listener(scope_of(ctx), p["ListenerArn"]))
        return {}

    def describe_listener_certificates(ctx: RequestContext, p: Params) -> Result:
        listener = d.listener(scope_of(ctx), p["ListenerArn"])
        return {
            "Certificates": [
                {"CertificateArn": c, "IsDefault": i == 0}
                for i, c in enumerate(listener.certificates)
            ]
        }

    def describe_ssl_policies(ctx: RequestContext, p: Params) -> Result:
        names = p.get("Names") or list(SSL_POLICIES)
        for name in names:
            if name not in SSL_POLICIES:
                raise SSLPolicyNotFound(f"SSL policy '{name}' not found")
        return {
            "SslPolicies": [
                {"Name": n, "SslProtocols": ["TLSv1.2", "TLSv1.3"], "SupportedLoadBalancerTypes":
                 ["application", "network"]} for n in names
            ]
        }  # fmt: skip

    # Rules

    def create_rule(ctx: RequestContext, p: Params) -> Result:
        listener = d.listener(scope_of(ctx), p["ListenerArn"])
        rule = elb.create_rule(
            listener,
            priority=int(p["Priority"]),
            conditions=parse_conditions(p["Conditions"]),
            actions=parse_actions(p["Actions"], network=False),
            tags=validation.tags(p.get("Tags")),
        )
        return {"Rules": [rule_to_wire(rule)]}

    def describe_rules(ctx: RequestContext, p: Params) -> Result:
        scope = scope_of(ctx)
        arns, listener_arn = p.get("RuleArns"), p.get("ListenerArn")
        items: list[Rule | Listener]
        if arns and listener_arn:
            raise ValidationError(
                "Rule ARNs and a listener ARN cannot be specified at the same time"
            )
        if arns:
            items = [d.rule_or_default(scope, a) for a in arns]
        elif listener_arn:
            listener = d.listener(scope, listener_arn)
            items = [*d.rules_of(listener), listener]
        else:
            raise ValidationError("You must specify either rule ARNs or a listener ARN")

        def wire(item: Rule | Listener) -> Result:
            return rule_to_wire(item) if isinstance(item, Rule) else default_rule_to_wire(item)

        def key(item: Rule | Listener) -> str:
            return f"{item.priority:05d}" if isinstance(item, Rule) else "99999"

        return paged(items, key, p, "Rules", wire)

    def modify_rule(ctx: RequestContext, p: Params) -> Result:
        found = d.rule_or_default(scope_of(ctx), p["RuleArn"])
        actions: Any = p.get("Actions")
        conditions: Any = p.get("Conditions")
        if isinstance(found, Listener):
            if conditions:
                raise ValidationError("The default rule cannot have conditions")
            parsed = parse_actions(actions, network=network(found.arn)) if actions else None
            return {"Rules": [default_rule_to_wire(elb.modify_default_rule(found, parsed))]}
        rule = elb.modify_rule(
            found,
            parse_conditions(conditions) if conditions else None,
            parse_actions(actions, network=False) if actions else None,
        )
        return {"Rules": [rule_to_wire(rule)]}

    def set_rule_priorities(ctx: RequestContext, p: Params) -> Result:
        rules = elb.set_priorities(scope_of(ctx), validation.rule_priorities(p["RulePriorities"]))
        return {"Rules": [rule_to_wire(r) for r in rules]}

    def delete_rule(ctx: RequestContext, p: Params) -> Result:
        elb.delete_rule(scope_of(ctx), p["RuleArn"])
        return {}

    return {
        "CreateListener": create_listener,
        "DescribeListeners": describe_listeners,
        "ModifyListener": modify_listener,
        "DeleteListener": delete_listener,
        "DescribeListenerCertificates": describe_listener_certificates,
        "DescribeSSLPolicies": describe_ssl_policies,
        "CreateRule": create_rule,
        "DescribeRules": describe_rules,
        "ModifyRule": modify_rule,
        "SetRulePriorities": set_rule_priorities,
        "DeleteRule": delete_rule,
    }
