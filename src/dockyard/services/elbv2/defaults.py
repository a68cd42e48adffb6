"""AWS's defaults for load balancer and target group attributes and health checks."""

from __future__ import annotations

from dockyard.services.elbv2.model import HealthCheck, Proto

LB_ATTRIBUTES_COMMON: dict[str, str] = {
    "deletion_protection.enabled": "false",
    "access_logs.s3.enabled": "false",
    "access_logs.s3.bucket": "",
    "access_logs.s3.prefix": "",
}

ALB_ATTRIBUTES: dict[str, str] = {
    **LB_ATTRIBUTES_COMMON,
    "idle_timeout.timeout_seconds": "60",
    "client_keep_alive.seconds": "3600",
    "connection_logs.s3.enabled": "false",
    "connection_logs.s3.bucket": "",
    "connection_logs.s3.prefix": "",
    "routing.http.desync_mitigation_mode": "defensive",
    "routing.http.drop_invalid_header_fields.enabled": "false",
    "routing.http.preserve_host_header.enabled": "false",
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
    "routing.http.xff_client_port.enabled": "false",
    "routing.http.xff_header_processing.mode": "append",
    "routing.http2.enabled": "true",
    "waf.fail_open.enabled": "false",
    "load_balancing.cross_zone.enabled": "true",
}

NLB_ATTRIBUTES: dict[str, str] = {
    **LB_ATTRIBUTES_COMMON,
    "load_balancing.cross_zone.enabled": "false",
    "dns_record.client_routing_policy": "any_availability_zone",
}

TG_ATTRIBUTES_HTTP: dict[str, str] = {
    "deregistration_delay.timeout_seconds": "300",
    "stickiness.enabled": "false",
    "stickiness.type": "lb_cookie",
    "stickiness.lb_cookie.duration_seconds": "86400",
    "stickiness.app_cookie.cookie_name": "",
    "stickiness.app_cookie.duration_seconds": "86400",
    "slow_start.duration_seconds": "0",
    "load_balancing.algorithm.type": "round_robin",
    "load_balancing.algorithm.anomaly_mitigation": "off",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}

TG_ATTRIBUTES_TCP: dict[str, str] = {
    "deregistration_delay.timeout_seconds": "300",
    "deregistration_delay.connection_termination.enabled": "false",
    "stickiness.enabled": "false",
    "stickiness.type": "source_ip",
    "proxy_protocol_v2.enabled": "false",
    "preserve_client_ip.enabled": "true",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
}


def lb_attributes(lb_type: str) -> dict[str, str]:
    return dict(NLB_ATTRIBUTES if lb_type == "network" else ALB_ATTRIBUTES)


def is_http(protocol: str | None) -> bool:
    return protocol in (Proto.HTTP, Proto.HTTPS)


def tg_attributes(protocol: str | None) -> dict[str, str]:
    return dict(TG_ATTRIBUTES_HTTP if is_http(protocol) or protocol is None else TG_ATTRIBUTES_TCP)


def health_check(protocol: str | None) -> HealthCheck:
    """The health check a target group gets when CreateTargetGroup names none of its fields."""
    if is_http(protocol) or protocol is None:
        return HealthCheck(
            enabled=True,
            protocol=protocol or Proto.HTTP,
            port="traffic-port",
            path="/",
            interval=30,
            timeout=5,
            healthy_threshold=5,
            unhealthy_threshold=2,
            matcher="200",
        )
    return HealthCheck(
        enabled=True,
        protocol=Proto.TCP,
        port="traffic-port",
        path=None,
        interval=30,
        timeout=10,
        healthy_threshold=5,
        unhealthy_threshold=2,
        matcher=None,
    )
