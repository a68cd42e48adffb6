"""The numbers ALB and NLB report to CloudWatch, counted as traffic passes.

Counters are cumulative since the data plane started; `take()` answers what happened since
the previous call (CloudWatch's Sum over a period) together with the response times seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockyard.core.metrics import Datum

MAX_SAMPLES = 10_000  # response times kept between two takes


@dataclass(slots=True)
class GroupCounters:
    """One target group (behind one load balancer)."""

    requests: int = 0
    target_2xx: int = 0
    target_3xx: int = 0
    target_4xx: int = 0
    target_5xx: int = 0
    response_time_sum: float = 0.0
    response_time_count: int = 0
    samples: list[float] = field(default_factory=list)

    def target_response(self, status: int, seconds: float) -> None:
        klass = status // 100
        if klass == 2:
            self.target_2xx += 1
        elif klass == 3:
            self.target_3xx += 1
        elif klass == 4:
            self.target_4xx += 1
        elif klass == 5:
            self.target_5xx += 1
        self.response_time_sum += seconds
        self.response_time_count += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(seconds)

    def take(self) -> GroupCounters:
        out = GroupCounters(
            self.requests, self.target_2xx, self.target_3xx, self.target_4xx,
            self.target_5xx, self.response_time_sum, self.response_time_count, self.samples,
        )  # fmt: skip
        self.requests = self.target_2xx = self.target_3xx = 0
        self.target_4xx = self.target_5xx = self.response_time_count = 0
        self.response_time_sum = 0.0
        self.samples = []
        return out


@dataclass(slots=True)
class LoadBalancerCounters:
    requests: int = 0
    elb_3xx: int = 0
    elb_4xx: int = 0
    elb_5xx: int = 0
    elb_502: int = 0
    elb_503: int = 0
    elb_504: int = 0
    new_connections: int = 0
    active_connections: int = 0
    target_connection_errors: int = 0
    # TCP listeners (NLB): payload bytes both ways, and connections that ended in a reset
    processed_bytes: int = 0
    client_resets: int = 0
    target_resets: int = 0
    elb_resets: int = 0

    def elb_response(self, status: int) -> None:
        klass = status // 100
        if klass == 3:
            self.elb_3xx += 1
        elif klass == 4:
            self.elb_4xx += 1
        elif klass == 5:
            self.elb_5xx += 1
            if status == 502:
                self.elb_502 += 1
            elif status == 503:
                self.elb_503 += 1
            elif status == 504:
                self.elb_504 += 1

    def take(self) -> LoadBalancerCounters:
        out = LoadBalancerCounters(
            self.requests, self.elb_3xx, self.elb_4xx, self.elb_5xx, self.elb_502,
            self.elb_503, self.elb_504, self.new_connections, self.active_connections,
            self.target_connection_errors, self.processed_bytes, self.client_resets,
            self.target_resets, self.elb_resets,
        )  # fmt: skip
        self.requests = self.elb_3xx = self.elb_4xx = self.elb_5xx = 0
        self.elb_502 = self.elb_503 = self.elb_504 = 0
        self.new_connections = self.target_connection_errors = 0
        self.processed_bytes = self.client_resets = self.target_resets = self.elb_resets = 0
        return out


def _owner(arn: str) -> tuple[str, str]:
    parts = arn.split(":", 5)
    return (parts[4], parts[3]) if len(parts) == 6 else ("", "")


def _count(ns: str, name: str, dims: tuple[tuple[str, str], ...], now: float,
           value: float) -> Datum:  # fmt: skip
    return Datum(ns, name, dims, now, unit="Count", value=float(value))


def network_load_balancer_data(lb_id: str, c: LoadBalancerCounters, now: float) -> list[Datum]:
    """AWS/NetworkELB's flow metrics (every NLB listener here is TCP, so each metric also
    has its _TCP twin). ProcessedBytes counts payload bytes: there are no IP headers to see
    from user space."""
    ns = "AWS/NetworkELB"
    dims = (("LoadBalancer", lb_id),)
    data = []
    for suffix in ("", "_TCP"):
        data += [
            _count(ns, "ActiveFlowCount" + suffix, dims, now, c.active_connections),
            _count(ns, "NewFlowCount" + suffix, dims, now, c.new_connections),
            Datum(ns, "ProcessedBytes" + suffix, dims, now, unit="Bytes",
                  value=float(c.processed_bytes)),
        ]  # fmt: skip
    data += [
        _count(ns, "TCP_Client_Reset_Count", dims, now, c.client_resets),
        _count(ns, "TCP_Target_Reset_Count", dims, now, c.target_resets),
        _count(ns, "TCP_ELB_Reset_Count", dims, now, c.elb_resets),
    ]
    return data


def load_balancer_data(lb_arn: str, lb_id: str, c: LoadBalancerCounters, now: float) -> list[Datum]:
    if lb_id.startswith("net/"):
        return network_load_balancer_data(lb_id, c, now)
    ns = "AWS/ApplicationELB"
    dims = (("LoadBalancer", lb_id),)
    data = [
        _count(ns, "RequestCount", dims, now, c.requests),
        _count(ns, "NewConnectionCount", dims, now, c.new_connections),
        _count(ns, "ActiveConnectionCount", dims, now, c.active_connections),
        _count(ns, "TargetConnectionErrorCount", dims, now, c.target_connection_errors),
        _count(ns, "HTTPCode_ELB_3XX_Count", dims, now, c.elb_3xx),
        _count(ns, "HTTPCode_ELB_4XX_Count", dims, now, c.elb_4xx),
        _count(ns, "HTTPCode_ELB_5XX_Count", dims, now, c.elb_5xx),
        _count(ns, "HTTPCode_ELB_502_Count", dims, now, c.elb_502),
        _count(ns, "HTTPCode_ELB_503_Count", dims, now, c.elb_503),
        _count(ns, "HTTPCode_ELB_504_Count", dims, now, c.elb_504),
    ]
    return data


def target_group_data(
    lb_id: str, tg_id: str, c: GroupCounters, healthy: int, unhealthy: int, now: float
) -> list[Datum]:
    both = (("LoadBalancer", lb_id), ("TargetGroup", tg_id))
    if lb_id.startswith("net/"):  # an NLB reports its targets' health, not requests
        return [
            _count("AWS/NetworkELB", "HealthyHostCount", both, now, healthy),
            _count("AWS/NetworkELB", "UnHealthyHostCount", both, now, unhealthy),
        ]
    ns = "AWS/ApplicationELB"
    data = [
        _count(ns, "RequestCount", both, now, c.requests),
        _count(ns, "RequestCountPerTarget", (("TargetGroup", tg_id),), now,
               c.requests / healthy if healthy else c.requests),
        _count(ns, "HTTPCode_Target_2XX_Count", both, now, c.target_2xx),
        _count(ns, "HTTPCode_Target_3XX_Count", both, now, c.target_3xx),
        _count(ns, "HTTPCode_Target_4XX_Count", both, now, c.target_4xx),
        _count(ns, "HTTPCode_Target_5XX_Count", both, now, c.target_5xx),
        _count(ns, "HealthyHostCount", both, now, healthy),
        _count(ns, "UnHealthyHostCount", both, now, unhealthy),
    ]  # fmt: skip
    if c.response_time_count:
        data.append(Datum(
            ns, "TargetResponseTime", both, now, unit="Seconds",
            count=float(c.response_time_count), sum=c.response_time_sum,
            minimum=min(c.samples) if c.samples else None,
            maximum=max(c.samples) if c.samples else None,
            values=tuple(c.samples),
        ))  # fmt: skip
    return data


def load_balancer_target_data(lb_id: str, groups: list[GroupCounters], now: float) -> list[Datum]:
    """What an ALB also reports per load balancer alone: its targets' response codes and
    response times, over all its target groups."""
    if lb_id.startswith("net/") or not groups:
        return []
    ns = "AWS/ApplicationELB"
    dims = (("LoadBalancer", lb_id),)
    data = [
        _count(ns, "HTTPCode_Target_2XX_Count", dims, now, sum(g.target_2xx for g in groups)),
        _count(ns, "HTTPCode_Target_3XX_Count", dims, now, sum(g.target_3xx for g in groups)),
        _count(ns, "HTTPCode_Target_4XX_Count", dims, now, sum(g.target_4xx for g in groups)),
        _count(ns, "HTTPCode_Target_5XX_Count", dims, now, sum(g.target_5xx for g in groups)),
    ]
    count = sum(g.response_time_count for g in groups)
    if count:
        samples = [s for g in groups for s in g.samples][:MAX_SAMPLES]
        data.append(Datum(
            ns, "TargetResponseTime", dims, now, unit="Seconds", count=float(count),
            sum=sum(g.response_time_sum for g in groups),
            minimum=min(samples) if samples else None,
            maximum=max(samples) if samples else None,
            values=tuple(samples),
        ))  # fmt: skip
    return data


def owner_of(arn: str) -> tuple[str, str]:
    """(account, region) of an ELB ARN."""
    return _owner(arn)
