"""The ELBv2 domain: validation with AWS's error codes, target health states, draining,
the TargetGroups port ECS uses, and reload from the store."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.clock import ManualClock
from dockyard.core.errors import ServiceError
from dockyard.core.loadbalancing import Target
from dockyard.core.scope import Scope
from dockyard.services.elbv2 import Elbv2, defaults
from dockyard.services.elbv2.actions import parse_actions, parse_conditions
from dockyard.store import SqliteStore

SCOPE = Scope("000000000000", "us-east-1")


@pytest.fixture
def elb() -> Elbv2:
    return Elbv2(SqliteStore(":memory:"), ManualClock())


def make_tg(elb: Elbv2, name: str = "app", **kw: Any) -> Any:
    settings: dict[str, Any] = dict(
        target_type="ip", protocol="HTTP", port=80, vpc_id="vpc-1", protocol_version=None,
        ip_address_type="ipv4", health_check=defaults.health_check("HTTP"), tags={},
    )  # fmt: skip
    settings.update(kw)
    return elb.create_target_group(SCOPE, name, **settings)


def make_lb(elb: Elbv2, name: str = "web") -> Any:
    return elb.create_load_balancer(
        SCOPE, name, lb_type="application", scheme="internet-facing", ip_address_type="ipv4",
        subnets=["subnet-a", "subnet-b"], security_groups=[], tags={},
    )  # fmt: skip


def code_of(fn: Any, *args: Any, **kw: Any) -> str:
    with pytest.raises(ServiceError) as info:
        fn(*args, **kw)
    return info.value.code


def test_load_balancer_defaults_and_duplicate_names(elb: Elbv2) -> None:
    lb = make_lb(elb)
    assert lb.state == "provisioning"
    assert lb.dns_name.endswith(".us-east-1.elb.localhost")
    assert lb.attributes["idle_timeout.timeout_seconds"] == "60"
    elb.activate()
    assert lb.state == "active"
    assert code_of(make_lb, elb) == "DuplicateLoadBalancerName"
    assert code_of(make_lb, elb, "internal-x") == "ValidationError"
    assert code_of(make_lb, elb, "-bad") == "ValidationError"


def test_target_group_health_check_rules(elb: Elbv2) -> None:
    tg = make_tg(elb)
    assert (tg.health_check.interval, tg.health_check.timeout) == (30, 5)
    assert (tg.health_check.healthy_threshold, tg.health_check.unhealthy_threshold) == (5, 2)
    assert tg.attributes["deregistration_delay.timeout_seconds"] == "300"
    hc = defaults.health_check("HTTP")
    hc.timeout = 30
    assert code_of(make_tg, elb, "b", health_check=hc) == "ValidationError"
    hc = defaults.health_check("HTTP")
    hc.matcher = "200-600"
    assert code_of(make_tg, elb, "c", health_check=hc) == "ValidationError"
    assert code_of(make_tg, elb, "d", protocol="UDP") == "UnsupportedProtocol"
    assert code_of(make_tg, elb, "app", port=81) == "DuplicateTargetGroupName"
    assert make_tg(elb).arn == tg.arn  # the same request again answers the same group
    assert (
        code_of(elb.set_tg_attributes, tg, [{"Key": "slow_start.duration_seconds", "Value": "5"}])
        == "ValidationError"
    )
    assert code_of(elb.set_tg_attributes, tg, [{"Key": "nope", "Value": "1"}]) == (
        "ValidationError"
    )


def test_actions_and_conditions_are_checked() -> None:
    assert code_of(parse_actions, [], network=False) == "ValidationError"
    assert code_of(parse_actions, [{"Type": "authenticate-oidc"}], network=False) == (
        "InvalidLoadBalancerAction"
    )
    redirect_to_self = [{"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_301"}}]
    assert code_of(parse_actions, redirect_to_self, network=False) == "InvalidLoadBalancerAction"
    bad_status = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "302"}}]
    assert code_of(parse_actions, bad_status, network=False) == "ValidationError"
    too_many = [{"Field": "path-pattern", "Values": ["/a", "/b", "/c", "/d", "/e", "/f"]}]
    assert code_of(parse_conditions, too_many) == "ValidationError"
    assert code_of(parse_conditions, [{"Field": "source-ip", "SourceIpConfig": {
        "Values": ["not-a-cidr"]}}]) == "ValidationError"  # fmt: skip


def forward_to(arn: str) -> Any:
    return parse_actions([{"Type": "forward", "TargetGroupArn": arn}], network=False)


def test_targets_are_unused_until_a_listener_forwards_to_their_group(elb: Elbv2) -> None:
    tg = make_tg(elb)
    elb.register_targets(tg, [("10.0.0.1", 8080, None)])
    key = "10.0.0.1:8080"
    assert elb.target_health(tg, key).state == "unused"
    assert elb.target_health(tg, key).reason == "Target.NotInUse"
    lb = make_lb(elb)
    elb.create_listener(lb, port=18080, protocol="HTTP", actions=forward_to(tg.arn),
                        certificates=[], ssl_policy=None, alpn_policy=[], tags={})  # fmt: skip
    health = elb.target_health(tg, key)
    assert (health.state, health.reason) == ("initial", "Elb.RegistrationInProgress")
    elb.targets.set_health(tg.arn, key, "healthy", None, None)
    assert elb.target_health(tg, key).state == "healthy"
    assert elb.target_health(tg, "10.9.9.9:80").reason == "Target.NotRegistered"
    assert code_of(elb.delete_target_group, tg) == "ResourceInUse"
    assert code_of(elb.register_targets, tg, [("8.8.8.8", 80, None)]) == "InvalidTarget"


def test_draining_ends_when_requests_finish_or_the_delay_passes(elb: Elbv2) -> None:
    clock = elb.clock
    assert isinstance(clock, ManualClock)
    tg = make_tg(elb)
    elb.set_tg_attributes(tg, [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
    lb = make_lb(elb)
    elb.create_listener(lb, port=18081, protocol="HTTP", actions=forward_to(tg.arn),
                        certificates=[], ssl_policy=None, alpn_policy=[], tags={})  # fmt: skip
    target = Target("i-0123456789abcdef0", 32768, "127.0.0.1")
    assert elb.target_type(SCOPE.account_id, SCOPE.region, tg.arn) == "ip"
    elb.register(SCOPE.account_id, SCOPE.region, tg.arn, target)
    assert elb.health(SCOPE.account_id, SCOPE.region, tg.arn, target) == "initial"
    elb.deregister(SCOPE.account_id, SCOPE.region, tg.arn, target)
    assert elb.health(SCOPE.account_id, SCOPE.region, tg.arn, target) == "draining"
    busy = {"n": 1}
    assert elb.targets.finish_draining(lambda _tg, _key: busy["n"]) == 0
    clock.advance(29)
    assert elb.targets.finish_draining(lambda _tg, _key: busy["n"]) == 0
    clock.advance(1)  # the delay is over, in-flight or not
    assert elb.targets.finish_draining(lambda _tg, _key: busy["n"]) == 1
    assert elb.health(SCOPE.account_id, SCOPE.region, tg.arn, target) == "unused"


def test_state_survives_a_reload(elb: Elbv2) -> None:
    tg = make_tg(elb)
    lb = make_lb(elb)
    listener = elb.create_listener(
        lb, port=18082, protocol="HTTP", actions=forward_to(tg.arn), certificates=[],
        ssl_policy=None, alpn_policy=[], tags={},
    )  # fmt: skip
    rule = elb.create_rule(
        listener, priority=5, conditions=parse_conditions([{"Field": "path-pattern",
                                                             "Values": ["/x*"]}]),
        actions=forward_to(tg.arn), tags={},
    )  # fmt: skip
    elb.register_targets(tg, [("10.0.0.1", 80, None)])
    elb.targets.set_health(tg.arn, "10.0.0.1:80", "healthy", None, None)
    assert code_of(elb.create_rule, listener, priority=5, conditions=rule.conditions,
                   actions=rule.actions, tags={}) == "PriorityInUse"  # fmt: skip
    again = Elbv2(elb.store, elb.clock)
    again.load()
    d = again.directory
    assert set(d.load_balancers) == {lb.arn} and set(d.rules) == {rule.arn}
    assert d.listeners[listener.arn].default_actions[0].target_group_arn == tg.arn
    reloaded = d.target_groups[tg.arn].targets["10.0.0.1:80"]
    assert reloaded.state == "initial"  # health is probed again after a restart
