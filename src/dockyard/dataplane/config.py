"""What the data plane runs: listeners, their ordered rules and actions, target groups with
their targets and health checks. Immutable snapshots; the plane swaps them in whole."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TargetConfig:
    key: str  # "id:port", as ELB names the target
    host: str  # where traffic goes
    port: int
    state: str  # initial | healthy | unhealthy | unavailable | draining
    healthy_since: float | None = None  # clock time, for slow start

    @property
    def routable(self) -> bool:
        """New requests may go here: healthy, or health checks are off."""
        return self.state in ("healthy", "unavailable")


@dataclass(frozen=True, slots=True)
class HealthCheckConfig:
    enabled: bool
    protocol: str  # HTTP | HTTPS | TCP
    port: int | None  # None: the traffic port
    path: str
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: tuple[tuple[int, int], ...] = ((200, 200),)


@dataclass(frozen=True, slots=True)
class TargetGroupConfig:
    arn: str
    metric_id: str  # targetgroup/name/id
    protocol: str  # HTTP | HTTPS | TCP
    health: HealthCheckConfig
    targets: tuple[TargetConfig, ...] = ()
    algorithm: str = "round_robin"  # round_robin | least_outstanding_requests | weighted_random
    slow_start: float = 0.0
    stickiness: str | None = None  # lb_cookie | app_cookie | source_ip
    stickiness_seconds: int = 86400
    app_cookie_name: str = ""
    in_use: bool = True  # a listener or rule forwards here: health checks run


@dataclass(frozen=True, slots=True)
class Forward:
    groups: tuple[tuple[str, int], ...]  # (target group ARN, weight)
    stickiness_seconds: int | None = None  # target group stickiness of a weighted forward


@dataclass(frozen=True, slots=True)
class FixedResponse:
    status: int
    content_type: str | None = None
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Redirect:
    status: int  # 301 | 302
    protocol: str = "#{protocol}"
    port: str = "#{port}"
    host: str = "#{host}"
    path: str = "/#{path}"
    query: str = "#{query}"


Action = Forward | FixedResponse | Redirect


@dataclass(frozen=True, slots=True)
class ConditionConfig:
    field: str  # path-pattern | host-header | http-header | http-request-method | ...
    values: tuple[str, ...]
    header_name: str | None = None
    query: tuple[tuple[str | None, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RuleConfig:
    arn: str
    conditions: tuple[ConditionConfig, ...]  # empty: the default rule
    action: Action


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    arn: str
    port: int
    protocol: str  # HTTP | HTTPS | TCP
    load_balancer_arn: str
    load_balancer_id: str  # app/name/id: the LoadBalancer metric dimension
    rules: tuple[RuleConfig, ...]  # by priority, the default rule last
    certificate: tuple[str, str] | None = None  # (certificate chain file, key file)
    idle_timeout: float = 60.0
    xff_mode: str = "append"  # append | preserve | remove


@dataclass(frozen=True, slots=True)
class DataPlaneConfig:
    listeners: tuple[ListenerConfig, ...] = ()
    target_groups: dict[str, TargetGroupConfig] = field(default_factory=dict)
