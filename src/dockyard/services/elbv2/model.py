"""ELBv2's domain types: load balancers, target groups and their targets, listeners, rules."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class LoadBalancerType(enum.StrEnum):
    APPLICATION = "application"
    NETWORK = "network"
    GATEWAY = "gateway"


class LoadBalancerState(enum.StrEnum):
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    FAILED = "failed"


class Proto(enum.StrEnum):
    HTTP = "HTTP"
    HTTPS = "HTTPS"
    TCP = "TCP"
    TLS = "TLS"
    UDP = "UDP"
    TCP_UDP = "TCP_UDP"
    GENEVE = "GENEVE"


class TargetType(enum.StrEnum):
    INSTANCE = "instance"
    IP = "ip"
    LAMBDA = "lambda"
    ALB = "alb"


class TargetState(enum.StrEnum):
    INITIAL = "initial"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    UNUSED = "unused"
    DRAINING = "draining"
    UNAVAILABLE = "unavailable"


class Reason(enum.StrEnum):
    REGISTRATION_IN_PROGRESS = "Elb.RegistrationInProgress"
    INITIAL_HEALTH_CHECKING = "Elb.InitialHealthChecking"
    RESPONSE_CODE_MISMATCH = "Target.ResponseCodeMismatch"
    TIMEOUT = "Target.Timeout"
    FAILED_HEALTH_CHECKS = "Target.FailedHealthChecks"
    NOT_REGISTERED = "Target.NotRegistered"
    NOT_IN_USE = "Target.NotInUse"
    DEREGISTRATION_IN_PROGRESS = "Target.DeregistrationInProgress"
    HEALTH_CHECK_DISABLED = "Target.HealthCheckDisabled"


DESCRIPTIONS: dict[str, str] = {
    Reason.REGISTRATION_IN_PROGRESS: "Target registration is in progress",
    Reason.INITIAL_HEALTH_CHECKING: "Initial health checks in progress",
    Reason.TIMEOUT: "Request timed out",
    Reason.FAILED_HEALTH_CHECKS: "Health checks failed",
    Reason.NOT_REGISTERED: "Target is not registered to the target group",
    Reason.NOT_IN_USE: "Target group is not configured to receive traffic from the load balancer",
    Reason.DEREGISTRATION_IN_PROGRESS: "Target deregistration is in progress",
    Reason.HEALTH_CHECK_DISABLED: "Health checks are disabled",
}


class ActionType(enum.StrEnum):
    FORWARD = "forward"
    REDIRECT = "redirect"
    FIXED_RESPONSE = "fixed-response"
    AUTHENTICATE_OIDC = "authenticate-oidc"
    AUTHENTICATE_COGNITO = "authenticate-cognito"
    JWT_VALIDATION = "jwt-validation"


class ConditionField(enum.StrEnum):
    PATH_PATTERN = "path-pattern"
    HOST_HEADER = "host-header"
    HTTP_HEADER = "http-header"
    HTTP_REQUEST_METHOD = "http-request-method"
    QUERY_STRING = "query-string"
    SOURCE_IP = "source-ip"


@dataclass(slots=True)
class HealthCheck:
    enabled: bool
    protocol: str
    port: str  # "traffic-port" or a port number
    path: str | None
    interval: int
    timeout: int
    healthy_threshold: int
    unhealthy_threshold: int
    matcher: str | None  # HTTP codes: "200", "200,202", "200-299"


@dataclass(slots=True)
class RegisteredTarget:
    target_id: str
    port: int
    address: str  # where traffic goes
    registered_at: float
    availability_zone: str | None = None
    state: str = TargetState.INITIAL
    reason: str | None = Reason.REGISTRATION_IN_PROGRESS
    description: str | None = None
    draining_since: float | None = None
    healthy_since: float | None = None

    @property
    def key(self) -> str:
        return f"{self.target_id}:{self.port}"


@dataclass(slots=True)
class TargetGroup:
    arn: str
    name: str
    account_id: str
    region: str
    target_type: str
    protocol: str | None
    port: int | None
    vpc_id: str | None
    protocol_version: str | None
    ip_address_type: str
    health_check: HealthCheck
    attributes: dict[str, str]
    created: float
    tags: dict[str, str] = field(default_factory=dict)
    targets: dict[str, RegisteredTarget] = field(default_factory=dict)

    @property
    def metric_id(self) -> str:
        """`targetgroup/name/id`, the TargetGroup dimension of CloudWatch metrics."""
        return self.arn.split(":", 5)[5]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> TargetGroup:
        body = dict(body)
        body["health_check"] = HealthCheck(**body["health_check"])
        targets = {k: RegisteredTarget(**v) for k, v in body.pop("targets", {}).items()}
        group = cls(**body)
        group.targets = targets
        return group


@dataclass(slots=True)
class SubnetMapping:
    subnet_id: str
    availability_zone: str


@dataclass(slots=True)
class LoadBalancer:
    arn: str
    name: str
    account_id: str
    region: str
    type: str
    scheme: str
    ip_address_type: str
    dns_name: str
    vpc_id: str
    subnets: list[SubnetMapping]
    security_groups: list[str]
    state: str
    created: float
    attributes: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def metric_id(self) -> str:
        """`app/name/id`, the LoadBalancer dimension of CloudWatch metrics."""
        return self.arn.split(":", 5)[5].removeprefix("loadbalancer/")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> LoadBalancer:
        body = dict(body)
        body["subnets"] = [SubnetMapping(**s) for s in body["subnets"]]
        return cls(**body)


@dataclass(slots=True)
class WeightedGroup:
    target_group_arn: str
    weight: int = 1


@dataclass(slots=True)
class Redirect:
    status_code: str  # HTTP_301 | HTTP_302
    protocol: str = "#{protocol}"
    port: str = "#{port}"
    host: str = "#{host}"
    path: str = "/#{path}"
    query: str = "#{query}"


@dataclass(slots=True)
class FixedResponse:
    status_code: str
    content_type: str | None = None
    message_body: str | None = None


@dataclass(slots=True)
class Action:
    type: str
    order: int | None = None
    # forward: `target_group_arn` when given as TargetGroupArn, else the ForwardConfig.
    target_group_arn: str | None = None
    groups: list[WeightedGroup] = field(default_factory=list)
    group_stickiness: bool = False
    group_stickiness_seconds: int = 3600
    forward_config: bool = False
    redirect: Redirect | None = None
    fixed_response: FixedResponse | None = None

    def target_group_arns(self) -> list[str]:
        if self.groups:
            return [g.target_group_arn for g in self.groups]
        return [self.target_group_arn] if self.target_group_arn else []

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Action:
        body = dict(body)
        body["groups"] = [WeightedGroup(**g) for g in body.get("groups", [])]
        if body.get("redirect"):
            body["redirect"] = Redirect(**body["redirect"])
        if body.get("fixed_response"):
            body["fixed_response"] = FixedResponse(**body["fixed_response"])
        return cls(**body)


@dataclass(slots=True)
class QueryPair:
    key: str | None
    value: str


@dataclass(slots=True)
class Condition:
    field: str
    values: list[str] = dataclasses.field(default_factory=list)
    header_name: str | None = None
    query: list[QueryPair] = dataclasses.field(default_factory=list)
    legacy_values: bool = False  # given as `Values` rather than a *Config

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Condition:
        body = dict(body)
        body["query"] = [QueryPair(**q) for q in body.get("query", [])]
        return cls(**body)


@dataclass(slots=True)
class Listener:
    arn: str
    load_balancer_arn: str
    port: int
    protocol: str
    default_actions: list[Action]
    default_rule_arn: str
    certificates: list[str] = field(default_factory=list)
    ssl_policy: str | None = None
    alpn_policy: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    default_rule_tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Listener:
        body = dict(body)
        body["default_actions"] = [Action.from_dict(a) for a in body["default_actions"]]
        return cls(**body)


@dataclass(slots=True)
class Rule:
    arn: str
    listener_arn: str
    priority: int
    conditions: list[Condition]
    actions: list[Action]
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Rule:
        body = dict(body)
        body["conditions"] = [Condition.from_dict(c) for c in body["conditions"]]
        body["actions"] = [Action.from_dict(a) for a in body["actions"]]
        return cls(**body)
