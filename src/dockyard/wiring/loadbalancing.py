"""Load balancing, wired: the ELBv2 service's state compiled into the data plane's
configuration, health results fed back into the service, and the loop that finishes draining
and provisioning. Lives beside server.py because it is the one place that knows both
`services.elbv2` and `dataplane` (neither imports the other)."""

from __future__ import annotations

import asyncio
import logging

from dockyard.core.clock import Clock
from dockyard.core.discovery import NameRecords
from dockyard.core.metrics import MetricSink
from dockyard.dataplane import config as dp
from dockyard.dataplane.plane import DataPlane
from dockyard.dataplane.tls import tls_files
from dockyard.services.elbv2.model import (
    Action,
    Condition,
    HealthCheck,
    Listener,
    LoadBalancerState,
    Rule,
    TargetGroup,
)
from dockyard.services.elbv2.service import Elbv2

log = logging.getLogger(__name__)

TICK = 1.0  # seconds of clock time between drain/provisioning sweeps
METRICS_PERIOD = 60.0  # seconds of clock time between CloudWatch publications


def _matcher(value: str | None) -> tuple[tuple[int, int], ...]:
    if not value:
        return ((200, 200),)
    out = []
    for part in value.split(","):
        low, _, high = part.partition("-")
        out.append((int(low), int(high or low)))
    return tuple(out)


def compile_health(hc: HealthCheck) -> dp.HealthCheckConfig:
    return dp.HealthCheckConfig(
        enabled=hc.enabled,
        protocol=hc.protocol,
        port=None if hc.port == "traffic-port" else int(hc.port),
        path=hc.path or "/",
        interval=float(hc.interval),
        timeout=float(hc.timeout),
        healthy_threshold=hc.healthy_threshold,
        unhealthy_threshold=hc.unhealthy_threshold,
        matcher=_matcher(hc.matcher),
    )


def compile_group(tg: TargetGroup, in_use: bool) -> dp.TargetGroupConfig:
    attrs = tg.attributes
    sticky = attrs.get("stickiness.enabled") == "true"
    kind = attrs.get("stickiness.type", "lb_cookie") if sticky else None
    seconds_key = (
        "stickiness.app_cookie.duration_seconds"
        if kind == "app_cookie"
        else "stickiness.lb_cookie.duration_seconds"
    )
    return dp.TargetGroupConfig(
        arn=tg.arn,
        metric_id=tg.metric_id,
        protocol=tg.protocol or "HTTP",
        health=compile_health(tg.health_check),
        targets=tuple(
            dp.TargetConfig(t.key, t.address, t.port, t.state, t.healthy_since)
            for t in tg.targets.values()
        ),
        algorithm=attrs.get("load_balancing.algorithm.type", "round_robin"),
        slow_start=float(attrs.get("slow_start.duration_seconds", "0") or 0),
        stickiness=kind,
        stickiness_seconds=int(attrs.get(seconds_key, "86400") or 86400),
        app_cookie_name=attrs.get("stickiness.app_cookie.cookie_name", "") if sticky else "",
        in_use=in_use,
    )


def compile_action(actions: list[Action]) -> dp.Action:
    action = next(a for a in actions if a.type in ("forward", "redirect", "fixed-response"))
    if action.redirect is not None:
        r = action.redirect
        return dp.Redirect(
            status=int(r.status_code.removeprefix("HTTP_")), protocol=r.protocol, port=r.port,
            host=r.host, path=r.path, query=r.query,
        )  # fmt: skip
    if action.fixed_response is not None:
        f = action.fixed_response
        return dp.FixedResponse(int(f.status_code), f.content_type, (f.message_body or "").encode())
    groups = tuple((g.target_group_arn, g.weight) for g in action.groups) or (
        (action.target_group_arn or "", 1),
    )
    return dp.Forward(groups, action.group_stickiness_seconds if action.group_stickiness else None)


def compile_condition(c: Condition) -> dp.ConditionConfig:
    return dp.ConditionConfig(
        c.field, tuple(c.values), c.header_name, tuple((q.key, q.value) for q in c.query)
    )


def compile_listener(elb: Elbv2, listener: Listener, rules: list[Rule]) -> dp.ListenerConfig:
    lb = elb.directory.load_balancers[listener.load_balancer_arn]
    compiled = [
        dp.RuleConfig(
            r.arn, tuple(compile_condition(c) for c in r.conditions), compile_action(r.actions)
        )
        for r in rules
    ]
    compiled.append(
        dp.RuleConfig(listener.default_rule_arn, (), compile_action(listener.default_actions))
    )
    certificate = None
    if listener.protocol == "HTTPS" and listener.certificates:
        try:
            certificate = tls_files(listener.certificates[0])
        except ValueError as exc:
            log.error("listener %s: certificate unusable: %s", listener.arn, exc)
    return dp.ListenerConfig(
        arn=listener.arn,
        port=listener.port,
        protocol=listener.protocol,
        load_balancer_arn=lb.arn,
        load_balancer_id=lb.metric_id,
        rules=tuple(compiled),
        certificate=certificate,
        idle_timeout=float(lb.attributes.get("idle_timeout.timeout_seconds", "60")),
        xff_mode=lb.attributes.get("routing.http.xff_header_processing.mode", "append"),
    )


def compile_config(elb: Elbv2) -> dp.DataPlaneConfig:
    d = elb.directory
    listeners = []
    used: set[str] = set()
    for listener in d.listeners.values():
        rules = d.rules_of(listener)
        listeners.append(compile_listener(elb, listener, rules))
        for action in [*listener.default_actions, *(a for r in rules for a in r.actions)]:
            used.update(action.target_group_arns())
    groups = {arn: compile_group(tg, arn in used) for arn, tg in d.target_groups.items()}
    return dp.DataPlaneConfig(tuple(listeners), groups)


DNS_TTL = 60  # seconds, as ELB's own records


class LoadBalancing:
    """The ELBv2 service and its data plane, kept in step."""

    def __init__(
        self,
        elb: Elbv2,
        clock: Clock,
        *,
        host: str = "127.0.0.1",
        metric_sink: MetricSink | None = None,
    ) -> None:
        self.elb = elb
        self.clock = clock
        self.plane = DataPlane(clock, self._health, host=host)
        self._task: asyncio.Task[None] | None = None
        # Where RequestCount, TargetResponseTime, HealthyHostCount... go (CloudWatch).
        self.metric_sink = metric_sink
        elb.on_change.append(self.sync)
        elb.port_check = lambda port, _listener: self.plane.check_port(port)
        elb.certificate_check = self._certificate_problem

    @staticmethod
    def _certificate_problem(ref: str) -> str | None:
        try:
            tls_files(ref)
        except ValueError as exc:
            return str(exc)
        return None

    def lookup(self, name: str) -> NameRecords | None:
        """The DNS zone of load balancer names (`DNSName`, under `elb.localhost`): each
        active or provisioning load balancer's name resolves to the address its listeners
        are bound on (the server's DNS port serves this zone beside Cloud Map's)."""
        zone = self.elb.dns_suffix.lower()
        if name != zone and not name.endswith("." + zone):
            return None
        for lb in self.elb.directory.load_balancers.values():
            if lb.dns_name.lower() == name and lb.state != LoadBalancerState.FAILED:
                host = self.plane.host
                v6 = ":" in host
                if host in ("", "0.0.0.0", "::"):
                    host = "::1" if v6 else "127.0.0.1"
                address = (host,)
                return NameRecords(
                    zone,
                    DNS_TTL,
                    True,
                    a=() if v6 else address,
                    aaaa=address if v6 else (),
                    ttl={"A": DNS_TTL, "AAAA": DNS_TTL},
                )
        return NameRecords(zone, DNS_TTL, False)

    def _health(
        self, tg_arn: str, key: str, state: str, reason: str | None, description: str | None
    ) -> None:
        self.elb.targets.set_health(tg_arn, key, state, reason, description)

    def sync(self) -> None:
        self.plane.apply(compile_config(self.elb))

    def start(self) -> None:
        self.plane.start()
        self.sync()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="elbv2-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.plane.stop()

    def publish_metrics(self) -> None:
        sink = self.metric_sink
        data = self.plane.take_metrics(self.clock.now())
        if sink is not None:
            for (account_id, region), items in data.items():
                sink.publish(account_id, region, items)

    async def _run(self) -> None:
        last_metrics = self.clock.now()
        while True:
            try:
                self.elb.activate()
                self.elb.targets.finish_draining(self.plane.inflight)
                if self.clock.now() - last_metrics >= METRICS_PERIOD:
                    last_metrics = self.clock.now()
                    self.publish_metrics()
            except Exception:
                log.exception("elbv2 sweep failed")
            await self.clock.sleep(TICK)
