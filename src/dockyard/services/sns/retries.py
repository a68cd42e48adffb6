"""When SNS tries a delivery again: the four phases of an HTTP/S delivery policy (immediate
retries, pre-backoff at minDelayTarget, backoff between minDelayTarget and maxDelayTarget by
backoffFunction, post-backoff at maxDelayTarget; numRetries in all), and the fixed schedule
of the AWS-managed endpoints (SQS, Lambda: three at once, two at a second, then backing off
to twenty seconds). Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dockyard.services.sns.topics import DEFAULT_HTTP_POLICY

MANAGED_RETRIES = 100_015  # SQS and Lambda endpoints, as AWS documents (over 23 days)


def http_policy(topic_policy: str | None, subscription_policy: str | None) -> dict[str, Any]:
    """The healthy retry policy of an HTTP/S subscription: its own DeliveryPolicy's
    healthyRetryPolicy, unless the topic disables subscription overrides; else the topic's
    defaultHealthyRetryPolicy; else SNS's default."""
    topic = _json(topic_policy).get("http") or {}
    chosen = dict(DEFAULT_HTTP_POLICY)
    chosen.update(topic.get("defaultHealthyRetryPolicy") or {})
    if not topic.get("disableSubscriptionOverrides"):
        chosen.update(_json(subscription_policy).get("healthyRetryPolicy") or {})
    return chosen


def content_type(topic_policy: str | None, subscription_policy: str | None) -> str | None:
    """The Content-Type an HTTP/S delivery policy asks for (`requestPolicy.headerContentType`
    of the subscription, else `http.defaultRequestPolicy.headerContentType` of the topic)."""
    own = (_json(subscription_policy).get("requestPolicy") or {}).get("headerContentType")
    topic = (_json(topic_policy).get("http") or {}).get("defaultRequestPolicy") or {}
    chosen = own or topic.get("headerContentType")
    return str(chosen) if isinstance(chosen, str) and chosen else None


def _json(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _int(policy: Mapping[str, Any], name: str) -> int:
    try:
        return max(0, int(str(policy.get(name, DEFAULT_HTTP_POLICY[name]))))
    except (TypeError, ValueError):
        return int(str(DEFAULT_HTTP_POLICY[name]))


def _curve(function: str, step: int, steps: int, low: float, high: float) -> float:
    """The backoff phase's delay at `step` (1..steps), from `low` to `high`."""
    if steps <= 0 or high <= low:
        return high
    x = step / steps
    if function == "arithmetic":
        x = (step * (step + 1) / 2) / (steps * (steps + 1) / 2)
    elif function == "geometric" and low > 0:
        return float(low * (high / low) ** x)
    elif function == "exponential":
        x = (2**step - 1) / (2**steps - 1)
    return low + (high - low) * x


def http_delay(policy: Mapping[str, Any], retry: int) -> float | None:
    """Seconds before retry number `retry` (1-based); None when the policy has none left."""
    total = _int(policy, "numRetries")
    if retry > total:
        return None
    low = float(_int(policy, "minDelayTarget"))
    high = max(low, float(_int(policy, "maxDelayTarget")))
    immediate = _int(policy, "numNoDelayRetries")
    pre = _int(policy, "numMinDelayRetries")
    post = _int(policy, "numMaxDelayRetries")
    backoff = max(0, total - immediate - pre - post)
    if retry <= immediate:
        return 0.0
    if retry <= immediate + pre:
        return low
    if retry <= immediate + pre + backoff:
        step = retry - immediate - pre
        return _curve(str(policy.get("backoffFunction", "linear")), step, backoff, low, high)
    return high


def managed_delay(retry: int) -> float | None:
    if retry > MANAGED_RETRIES:
        return None
    if retry <= 3:
        return 0.0
    if retry <= 5:
        return 1.0
    if retry <= 15:
        return _curve("exponential", retry - 5, 10, 1.0, 20.0)
    return 20.0
