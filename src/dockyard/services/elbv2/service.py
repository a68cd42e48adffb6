"""The ELBv2 service: load balancers, target groups, listeners and rules, and the
`TargetGroups` port that ECS services use.

`Elbv2(store, clock)`: state lives in a `Directory` written through to the store. Every
change that the data plane must see calls the functions in `on_change` (the server
recompiles the routing configuration there). `port_check(port)` is asked before a listener
takes a port: it returns an error message when this host cannot listen there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from dockyard.core.clock import Clock
from dockyard.core.loadbalancing import Target
from dockyard.core.scope import Scope
from dockyard.services.elbv2 import defaults, validation
from dockyard.services.elbv2.directory import (
    Directory,
    lb_arn,
    listener_arn,
    rule_arn,
    scope_of_arn,
    short_id,
    tg_arn,
)
from dockyard.services.elbv2.errors import (
    CertificateNotFound,
    DuplicateListener,
    DuplicateLoadBalancerName,
    DuplicateTargetGroupName,
    IncompatibleProtocols,
    InvalidConfigurationRequest,
    InvalidTarget,
    OperationNotPermitted,
    PriorityInUse,
    ResourceInUse,
    TargetGroupAssociationLimit,
    UnsupportedProtocol,
    ValidationError,
)
from dockyard.services.elbv2.model import (
    DESCRIPTIONS,
    Action,
    Condition,
    HealthCheck,
    Listener,
    LoadBalancer,
    LoadBalancerState,
    LoadBalancerType,
    Proto,
    Reason,
    Rule,
    SubnetMapping,
    TargetGroup,
    TargetState,
)
from dockyard.services.elbv2.targets import Health, Targets
from dockyard.store.base import Store

log = logging.getLogger(__name__)

HOSTED_ZONES = {"application": "Z35SXDOTRQ7X7K", "network": "Z26RNL4JYFTOTI"}
ALB_LISTENER_PROTOCOLS = (Proto.HTTP, Proto.HTTPS)
NLB_LISTENER_PROTOCOLS = (Proto.TCP,)

# Checks a certificate reference (`file:///path/cert.pem`); returns an error or None.
CertificateCheck = Callable[[str], "str | None"]
PortCheck = Callable[[int, "str | None"], "str | None"]


class Elbv2:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        dns_suffix: str = "elb.localhost",
        instance_address: Callable[[str], str] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.dns_suffix = dns_suffix
        self.directory = Directory(store)
        self.on_change: list[Callable[[], None]] = []
        self.port_check: PortCheck = lambda port, listener_arn_: None
        self.certificate_check: CertificateCheck = lambda ref: None
        self.targets = Targets(
            self.directory, clock, self.changed, instance_address or (lambda _id: "127.0.0.1")
        )

    def load(self) -> None:
        self.directory.load()
        self.targets.reset_health()

    def reset(self) -> None:
        self.directory.reset()
        self.changed()

    def changed(self) -> None:
        for callback in self.on_change:
            callback()

    # Load balancers

    def create_load_balancer(
        self,
        scope: Scope,
        name: str,
        *,
        lb_type: str,
        scheme: str,
        ip_address_type: str,
        subnets: Sequence[str],
        security_groups: Sequence[str],
        tags: dict[str, str],
    ) -> LoadBalancer:
        validation.load_balancer_name(name)
        if lb_type not in (LoadBalancerType.APPLICATION, LoadBalancerType.NETWORK):
            raise UnsupportedProtocol(
                f"Dockyard does not run '{lb_type}' load balancers (application or network)"
            )
        existing = self.directory.lb_by_name(scope, name)
        if existing is not None:
            raise DuplicateLoadBalancerName(
                f"A load balancer with the name '{name}' already exists"
            )
        if len(set(subnets)) != len(subnets):
            raise ValidationError("The same subnet cannot be specified more than once")
        if lb_type == LoadBalancerType.APPLICATION and len(subnets) < 2:
            raise ValidationError(
                "At least two subnets in two different Availability Zones must be specified"
            )
        if lb_type == LoadBalancerType.NETWORK and not subnets:
            raise ValidationError("At least one subnet must be specified")
        zones = "abcdef"
        mappings = [
            SubnetMapping(s, f"{scope.region}{zones[i % len(zones)]}")
            for i, s in enumerate(subnets)
        ]
        arn = lb_arn(scope, lb_type, name)
        lb_id = arn.rsplit("/", 1)[1]
        prefix = "internal-" if scheme == "internal" else ""
        lb = LoadBalancer(
            arn=arn,
            name=name,
            account_id=scope.account_id,
            region=scope.region,
            type=lb_type,
            scheme=scheme,
            ip_address_type=ip_address_type,
            dns_name=f"{prefix}{name}-{lb_id}.{scope.region}.{self.dns_suffix}",
            vpc_id="vpc-dockyard",
            subnets=mappings,
            security_groups=list(security_groups) if lb_type == "application" else [],
            state=LoadBalancerState.PROVISIONING,
            created=self.clock.now(),
            attributes=defaults.lb_attributes(lb_type),
            tags=tags,
        )
        self.directory.save_lb(lb)
        log.info("elbv2: created %s load balancer %s", lb_type, name, extra={"load_balancer": arn})
        self.changed()
        return lb

    def activate(self) -> None:
        """Load balancers finish provisioning (their listeners are real sockets already)."""
        for lb in list(self.directory.load_balancers.values()):
            if lb.state == LoadBalancerState.PROVISIONING:
                lb.state = LoadBalancerState.ACTIVE
                self.directory.save_lb(lb)

    def delete_load_balancer(self, lb: LoadBalancer) -> None:
        if lb.attributes.get("deletion_protection.enabled") == "true":
            raise OperationNotPermitted(
                f"Load balancer '{lb.arn}' cannot be deleted because deletion protection is enabled"
            )
        self.directory.drop_lb(lb)  # with its listeners and rules
        self.changed()

    def set_lb_attributes(self, lb: LoadBalancer, items: Sequence[dict[str, str]]) -> None:
        lb.attributes.update(validation.attributes(items, defaults.lb_attributes(lb.type)))
        self.directory.save_lb(lb)
        self.changed()

    # Target groups

    def create_target_group(
        self,
        scope: Scope,
        name: str,
        *,
        target_type: str,
        protocol: str | None,
        port: int | None,
        vpc_id: str | None,
        protocol_version: str | None,
        ip_address_type: str,
        health_check: HealthCheck,
        tags: dict[str, str],
    ) -> TargetGroup:
        validation.target_group_name(name)
        needs_port = target_type in ("instance", "ip", "alb")
        if needs_port and (protocol is None or port is None or vpc_id is None):
            raise ValidationError(
                "A protocol, a port and a VPC ID must be specified for target groups of "
                f"target type '{target_type}'"
            )
        if protocol is not None and protocol not in (Proto.HTTP, Proto.HTTPS, Proto.TCP):
            raise UnsupportedProtocol(
                f"Dockyard target groups speak HTTP, HTTPS or TCP, not '{protocol}'"
            )
        if port is not None:
            validation.port(port)
        if protocol_version is not None and protocol not in (Proto.HTTP, Proto.HTTPS):
            raise ValidationError("A protocol version can be specified only for HTTP/HTTPS")
        if protocol_version not in (None, "HTTP1"):
            raise UnsupportedProtocol(
                f"Protocol version '{protocol_version}' is not supported by Dockyard (HTTP1)"
            )
        validation.health_check(health_check, protocol)
        existing = self.directory.tg_by_name(scope, name)
        if existing is not None:
            same = (
                existing.protocol == protocol
                and existing.port == port
                and existing.vpc_id == vpc_id
                and existing.target_type == target_type
            )
            if same:
                return existing  # AWS answers the existing group for an identical request
            raise DuplicateTargetGroupName(
                f"A target group with the same name '{name}' exists, but with different settings"
            )
        tg = TargetGroup(
            arn=tg_arn(scope, name),
            name=name,
            account_id=scope.account_id,
            region=scope.region,
            target_type=target_type,
            protocol=protocol,
            port=port,
            vpc_id=vpc_id,
            protocol_version=(protocol_version or "HTTP1")
            if protocol in ALB_LISTENER_PROTOCOLS
            else None,
            ip_address_type=ip_address_type,
            health_check=health_check,
            attributes=defaults.tg_attributes(protocol),
            created=self.clock.now(),
            tags=tags,
        )
        self.directory.save_tg(tg)
        self.changed()
        return tg

    def modify_target_group(self, tg: TargetGroup, health_check: HealthCheck) -> None:
        validation.health_check(health_check, tg.protocol)
        was_enabled = tg.health_check.enabled
        tg.health_check = health_check
        if was_enabled != health_check.enabled:
            for target in tg.targets.values():
                if target.state == TargetState.DRAINING:
                    continue
                target.state = (
                    TargetState.INITIAL if health_check.enabled else TargetState.UNAVAILABLE
                )
                target.reason = None
                target.description = None
        self.directory.save_tg(tg)
        self.changed()

    def set_tg_attributes(self, tg: TargetGroup, items: Sequence[dict[str, str]]) -> None:
        tg.attributes.update(validation.attributes(items, defaults.tg_attributes(tg.protocol)))
        self.directory.save_tg(tg)
        self.changed()

    def delete_target_group(self, tg: TargetGroup) -> None:
        if self.directory.lbs_of_tg(tg.arn):
            raise ResourceInUse(
                f"Target group '{tg.arn}' is currently in use by a listener or a rule"
            )
        self.directory.drop_tg(tg)
        self.changed()

    def register_targets(
        self, tg: TargetGroup, targets: Sequence[tuple[str, int | None, str | None]]
    ) -> None:
        checked = [(tid, self.targets.check(tg, tid, port), az) for tid, port, az in targets]
        for tid, port, az in checked:
            self.targets.register(tg, tid, port, None, az)

    def deregister_targets(
        self, tg: TargetGroup, targets: Sequence[tuple[str, int | None]]
    ) -> None:
        for tid, port in targets:
            chosen = port if port is not None else tg.port
            key = f"{tid}:{chosen}"
            if key not in tg.targets:
                raise InvalidTarget(
                    f"The following targets are not registered in target group '{tg.name}': '{tid}'"
                )
        for tid, port in targets:
            self.targets.deregister(tg, f"{tid}:{port if port is not None else tg.port}")

    # Listeners

    def _check_actions(self, lb: LoadBalancer, actions: Sequence[Action], protocol: str) -> None:
        scope = Scope(lb.account_id, lb.region)
        for action in actions:
            for arn in action.target_group_arns():
                tg = self.directory.tg(scope, arn)
                if lb.type == LoadBalancerType.APPLICATION:
                    ok = tg.protocol in ALB_LISTENER_PROTOCOLS
                else:
                    ok = tg.protocol == Proto.TCP
                if not ok:
                    raise IncompatibleProtocols(
                        f"Target group '{tg.name}' uses {tg.protocol}, which a {protocol} "
                        f"listener of a {lb.type} load balancer cannot forward to"
                    )
                other = [a for a in self.directory.lbs_of_tg(arn) if a != lb.arn]
                if other:
                    raise TargetGroupAssociationLimit(
                        f"The following target groups cannot be associated with more than one "
                        f"load balancer: {arn}"
                    )

    def _check_listener(
        self,
        lb: LoadBalancer,
        port: int,
        protocol: str,
        certificates: Sequence[str],
        actions: Sequence[Action],
        listener: Listener | None,
    ) -> None:
        allowed = ALB_LISTENER_PROTOCOLS if lb.type == "application" else NLB_LISTENER_PROTOCOLS
        if protocol not in allowed:
            raise UnsupportedProtocol(
                f"Protocol '{protocol}' is not supported by Dockyard for {lb.type} load "
                f"balancers (use {' or '.join(allowed)})"
            )
        validation.port(port)
        for other in self.directory.listeners_of(lb):
            if other.port == port and other is not listener:
                raise DuplicateListener(
                    "A listener already exists on this port for this load balancer"
                )
        for other in self.directory.listeners.values():
            if other.port == port and other is not listener and other.load_balancer_arn != lb.arn:
                raise InvalidConfigurationRequest(
                    f"Port {port} is already used by listener '{other.arn}': Dockyard's "
                    "listeners are real ports on this host"
                )
        if listener is None or listener.port != port:
            problem = self.port_check(port, listener.arn if listener else None)
            if problem:
                raise InvalidConfigurationRequest(f"Cannot listen on port {port}: {problem}")
        if protocol == Proto.HTTPS:
            if not certificates:
                raise ValidationError("A certificate must be specified for HTTPS listeners")
            for ref in certificates:
                problem = self.certificate_check(ref)
                if problem:
                    raise CertificateNotFound(f"Certificate '{ref}' not found: {problem}")
        elif certificates:
            raise ValidationError(f"Certificates are not supported for {protocol} listeners")
        self._check_actions(lb, actions, protocol)

    def create_listener(
        self,
        lb: LoadBalancer,
        *,
        port: int,
        protocol: str,
        actions: list[Action],
        certificates: list[str],
        ssl_policy: str | None,
        alpn_policy: list[str],
        tags: dict[str, str],
    ) -> Listener:
        for existing in self.directory.listeners_of(lb):
            if existing.port == port and existing.protocol == protocol:
                same = existing.default_actions == actions and existing.certificates == certificates
                if same:
                    return existing
        self._check_listener(lb, port, protocol, certificates, actions, None)
        arn = listener_arn(lb)
        listener = Listener(
            arn=arn,
            load_balancer_arn=lb.arn,
            port=port,
            protocol=protocol,
            default_actions=actions,
            default_rule_arn=arn.replace(":listener/", ":listener-rule/", 1) + "/" + short_id(),
            certificates=certificates,
            ssl_policy=ssl_policy or ("ELBSecurityPolicy-2016-08" if protocol == "HTTPS" else None),
            alpn_policy=alpn_policy,
            tags=tags,
        )
        self.directory.save_listener(listener)
        self.changed()
        return listener

    def modify_listener(
        self,
        listener: Listener,
        *,
        port: int | None,
        protocol: str | None,
        actions: list[Action] | None,
        certificates: list[str] | None,
        ssl_policy: str | None,
    ) -> Listener:
        lb = self.directory.load_balancers[listener.load_balancer_arn]
        new_port = port if port is not None else listener.port
        new_protocol = protocol or listener.protocol
        new_actions = actions if actions is not None else listener.default_actions
        new_certs = (
            certificates
            if certificates is not None
            else (listener.certificates if new_protocol == Proto.HTTPS else [])
        )
        self._check_listener(lb, new_port, new_protocol, new_certs, new_actions, listener)
        listener.port, listener.protocol = new_port, new_protocol
        listener.default_actions, listener.certificates = new_actions, new_certs
        if new_protocol == Proto.HTTPS:
            listener.ssl_policy = ssl_policy or listener.ssl_policy or "ELBSecurityPolicy-2016-08"
        else:
            listener.ssl_policy = None
        self.directory.save_listener(listener)
        self.changed()
        return listener

    def delete_listener(self, listener: Listener) -> None:
        self.directory.drop_listener(listener)
        self.changed()

    # Rules

    def create_rule(
        self,
        listener: Listener,
        *,
        priority: int,
        conditions: list[Condition],
        actions: list[Action],
        tags: dict[str, str],
    ) -> Rule:
        lb = self.directory.load_balancers[listener.load_balancer_arn]
        if lb.type != LoadBalancerType.APPLICATION:
            raise InvalidConfigurationRequest(
                "Rules are supported only by Application Load Balancers"
            )
        self._check_priority(listener, priority, None)
        self._check_actions(lb, actions, listener.protocol)
        rule = Rule(rule_arn(listener), listener.arn, priority, conditions, actions, tags)
        self.directory.save_rule(rule)
        self.changed()
        return rule

    def _check_priority(self, listener: Listener, priority: int, rule: Rule | None) -> None:
        if not 1 <= priority <= 50000:
            raise ValidationError(f"Priority '{priority}' must be between 1 and 50000")
        for other in self.directory.rules_of(listener):
            if other.priority == priority and other is not rule:
                raise PriorityInUse(f"Priority '{priority}' is currently in use")

    def modify_rule(
        self, rule: Rule, conditions: list[Condition] | None, actions: list[Action] | None
    ) -> Rule:
        listener = self.directory.listeners[rule.listener_arn]
        lb = self.directory.load_balancers[listener.load_balancer_arn]
        if actions is not None:
            self._check_actions(lb, actions, listener.protocol)
            rule.actions = actions
        if conditions is not None:
            rule.conditions = conditions
        self.directory.save_rule(rule)
        self.changed()
        return rule

    def modify_default_rule(self, listener: Listener, actions: list[Action] | None) -> Listener:
        if actions is not None:
            lb = self.directory.load_balancers[listener.load_balancer_arn]
            self._check_actions(lb, actions, listener.protocol)
            listener.default_actions = actions
            self.directory.save_listener(listener)
            self.changed()
        return listener

    def set_priorities(self, scope: Scope, pairs: Sequence[tuple[str, int]]) -> list[Rule]:
        rules: list[Rule] = []
        for arn, _priority in pairs:
            found = self.directory.rule_or_default(scope, arn)
            if isinstance(found, Listener):
                raise OperationNotPermitted("The default rule's priority cannot be changed")
            rules.append(found)
        listeners = {r.listener_arn for r in rules}
        if len(listeners) > 1:
            raise ValidationError("All rules must belong to the same listener")
        moving = {r.arn for r in rules}
        new = {arn: p for arn, p in pairs}
        if len(set(new.values())) != len(new):
            raise PriorityInUse("The same priority cannot be given to two rules")
        for rule in rules:
            listener = self.directory.listeners[rule.listener_arn]
            for other in self.directory.rules_of(listener):
                if other.arn not in moving and other.priority == new[rule.arn]:
                    raise PriorityInUse(f"Priority '{new[rule.arn]}' is currently in use")
            if not 1 <= new[rule.arn] <= 50000:
                raise ValidationError(f"Priority '{new[rule.arn]}' must be between 1 and 50000")
        for rule in rules:
            rule.priority = new[rule.arn]
            self.directory.save_rule(rule)
        self.changed()
        return rules

    def delete_rule(self, scope: Scope, arn: str) -> None:
        found = self.directory.rule_or_default(scope, arn)
        if isinstance(found, Listener):
            raise OperationNotPermitted("The default rule cannot be deleted")
        self.directory.drop_rule(found)
        self.changed()

    # The TargetGroups port (core.loadbalancing) used by ECS services

    def _tg_or_none(self, account_id: str, region: str, arn: str) -> TargetGroup | None:
        tg = self.directory.target_groups.get(arn)
        if tg is None or (tg.account_id, tg.region) != (account_id, region):
            return None
        return tg

    def target_type(self, account_id: str, region: str, target_group_arn: str) -> str | None:
        tg = self._tg_or_none(account_id, region, target_group_arn)
        return tg.target_type if tg is not None else None

    def register(self, account_id: str, region: str, target_group_arn: str, target: Target) -> None:
        tg = self._tg_or_none(account_id, region, target_group_arn)
        if tg is None:
            log.warning("elbv2: cannot register %s: target group %s not found",
                        target.target_id, target_group_arn)  # fmt: skip
            return
        self.targets.register(tg, target.target_id, target.port, target.address, None)

    def deregister(
        self, account_id: str, region: str, target_group_arn: str, target: Target
    ) -> None:
        tg = self._tg_or_none(account_id, region, target_group_arn)
        if tg is not None:
            self.targets.deregister(tg, f"{target.target_id}:{target.port}")

    def health(self, account_id: str, region: str, target_group_arn: str, target: Target) -> str:
        tg = self._tg_or_none(account_id, region, target_group_arn)
        registered = tg.targets.get(f"{target.target_id}:{target.port}") if tg else None
        if tg is None or registered is None:
            return TargetState.UNUSED
        return self.targets.health(tg, registered).state

    def target_health(self, tg: TargetGroup, key: str) -> Health:
        registered = tg.targets.get(key)
        if registered is None:
            return Health(
                TargetState.UNUSED, Reason.NOT_REGISTERED, DESCRIPTIONS[Reason.NOT_REGISTERED]
            )
        return self.targets.health(tg, registered)


def scope_of(arn: str) -> Scope | None:
    return scope_of_arn(arn)
