"""Every load balancer, target group, listener and rule: in memory, written through to the
store."""

from __future__ import annotations

import secrets

from dockyard.core.ids import arn
from dockyard.core.scope import Scope
from dockyard.services.elbv2.errors import (
    ListenerNotFound,
    LoadBalancerNotFound,
    RuleNotFound,
    TargetGroupNotFound,
)
from dockyard.services.elbv2.model import Listener, LoadBalancer, Rule, TargetGroup
from dockyard.store.base import Store
from dockyard.store.undo import put_record

LB_KIND = "elbv2.lb"
TG_KIND = "elbv2.tg"
LISTENER_KIND = "elbv2.listener"
RULE_KIND = "elbv2.rule"
SERVICE = "elasticloadbalancing"


def short_id() -> str:
    return secrets.token_hex(8)


def lb_arn(scope: Scope, lb_type: str, name: str) -> str:
    prefix = {"application": "app", "network": "net", "gateway": "gwy"}[lb_type]
    return arn(
        SERVICE, scope.region, scope.account_id, f"loadbalancer/{prefix}/{name}/{short_id()}"
    )


def tg_arn(scope: Scope, name: str) -> str:
    return arn(SERVICE, scope.region, scope.account_id, f"targetgroup/{name}/{short_id()}")


def listener_arn(lb: LoadBalancer) -> str:
    return lb.arn.replace(":loadbalancer/", ":listener/", 1) + "/" + short_id()


def rule_arn(listener: Listener) -> str:
    return listener.arn.replace(":listener/", ":listener-rule/", 1) + "/" + short_id()


def scope_of_arn(value: str) -> Scope | None:
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != SERVICE:
        return None
    return Scope(parts[4], parts[3])


class Directory:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.load_balancers: dict[str, LoadBalancer] = {}
        self.target_groups: dict[str, TargetGroup] = {}
        self.listeners: dict[str, Listener] = {}
        self.rules: dict[str, Rule] = {}

    def load(self) -> None:
        self.reset()
        for key, body in self.store.load(LB_KIND):
            self.load_balancers[key] = LoadBalancer.from_dict(body)
        for key, body in self.store.load(TG_KIND):
            self.target_groups[key] = TargetGroup.from_dict(body)
        for key, body in self.store.load(LISTENER_KIND):
            self.listeners[key] = Listener.from_dict(body)
        for key, body in self.store.load(RULE_KIND):
            self.rules[key] = Rule.from_dict(body)

    def reset(self) -> None:
        self.load_balancers.clear()
        self.target_groups.clear()
        self.listeners.clear()
        self.rules.clear()

    # Write-through

    def save_lb(self, lb: LoadBalancer) -> None:
        put_record(self.store, LB_KIND, lb.arn, lb, LoadBalancer.from_dict)
        self.load_balancers[lb.arn] = lb

    def save_tg(self, tg: TargetGroup) -> None:
        put_record(self.store, TG_KIND, tg.arn, tg, TargetGroup.from_dict)
        self.target_groups[tg.arn] = tg

    def save_listener(self, listener: Listener) -> None:
        put_record(self.store, LISTENER_KIND, listener.arn, listener, Listener.from_dict)
        self.listeners[listener.arn] = listener

    def save_rule(self, rule: Rule) -> None:
        put_record(self.store, RULE_KIND, rule.arn, rule, Rule.from_dict)
        self.rules[rule.arn] = rule

    def drop_lb(self, lb: LoadBalancer) -> None:
        """The load balancer with its listeners and their rules, in one transaction."""
        listeners = self.listeners_of(lb)
        rules = [rule for listener in listeners for rule in self.rules_of(listener)]
        self.store.write(
            deletes=[(RULE_KIND, r.arn) for r in rules]
            + [(LISTENER_KIND, listener.arn) for listener in listeners]
            + [(LB_KIND, lb.arn)]
        )
        for rule in rules:
            self.rules.pop(rule.arn, None)
        for listener in listeners:
            self.listeners.pop(listener.arn, None)
        self.load_balancers.pop(lb.arn, None)

    def drop_tg(self, tg: TargetGroup) -> None:
        self.store.delete(TG_KIND, tg.arn)
        self.target_groups.pop(tg.arn, None)

    def drop_listener(self, listener: Listener) -> None:
        rules = self.rules_of(listener)
        self.store.write(
            deletes=[(RULE_KIND, r.arn) for r in rules] + [(LISTENER_KIND, listener.arn)]
        )
        for rule in rules:
            self.rules.pop(rule.arn, None)
        self.listeners.pop(listener.arn, None)

    def drop_rule(self, rule: Rule) -> None:
        self.store.delete(RULE_KIND, rule.arn)
        self.rules.pop(rule.arn, None)

    # Lookups (a resource of another account or region is not found)

    def lb(self, scope: Scope, value: str) -> LoadBalancer:
        found = self.load_balancers.get(value)
        if found is None or Scope(found.account_id, found.region) != scope:
            raise LoadBalancerNotFound(f"Load balancer '{value}' not found")
        return found

    def lb_by_name(self, scope: Scope, name: str) -> LoadBalancer | None:
        for lb in self.load_balancers.values():
            if lb.name == name and Scope(lb.account_id, lb.region) == scope:
                return lb
        return None

    def tg(self, scope: Scope, value: str) -> TargetGroup:
        found = self.target_groups.get(value)
        if found is None or Scope(found.account_id, found.region) != scope:
            raise TargetGroupNotFound(f"Target groups '{value}' not found")
        return found

    def tg_by_name(self, scope: Scope, name: str) -> TargetGroup | None:
        for tg in self.target_groups.values():
            if tg.name == name and Scope(tg.account_id, tg.region) == scope:
                return tg
        return None

    def listener(self, scope: Scope, value: str) -> Listener:
        found = self.listeners.get(value)
        if found is None or scope_of_arn(found.arn) != scope:
            raise ListenerNotFound(f"Listener '{value}' not found")
        return found

    def rule_or_default(self, scope: Scope, value: str) -> Rule | Listener:
        """A rule, or the listener whose default rule has this ARN."""
        found = self.rules.get(value)
        if found is not None and scope_of_arn(found.arn) == scope:
            return found
        for listener in self.listeners.values():
            if listener.default_rule_arn == value and scope_of_arn(value) == scope:
                return listener
        raise RuleNotFound(f"One or more rules not found: '{value}'")

    def listeners_of(self, lb: LoadBalancer) -> list[Listener]:
        return sorted(
            (li for li in self.listeners.values() if li.load_balancer_arn == lb.arn),
            key=lambda li: li.port,
        )

    def rules_of(self, listener: Listener) -> list[Rule]:
        return sorted(
            (r for r in self.rules.values() if r.listener_arn == listener.arn),
            key=lambda r: r.priority,
        )

    def lbs_of_tg(self, tg_arn_: str) -> list[str]:
        """The load balancers whose listeners or rules forward to this target group."""
        out: set[str] = set()
        for listener in self.listeners.values():
            actions = list(listener.default_actions)
            for rule in self.rules_of(listener):
                actions.extend(rule.actions)
            if any(tg_arn_ in a.target_group_arns() for a in actions):
                out.add(listener.load_balancer_arn)
        return sorted(out)
