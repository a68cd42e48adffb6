"""Queue policies: who else may send to a queue. A topic or a rule (SNS, EventBridge) may
send only when the queue's policy allows its service principal, for that source ARN."""

from __future__ import annotations

import json
from typing import Any

from dockyard.core.iampolicy import PolicyError, PolicyKind, Request, evaluate, parse_policy
from dockyard.services.sqs.model import Queue


def service_may_send(queue: Queue, principal: str, source_arn: str | None) -> bool:
    text = queue.attributes.get("Policy")
    if not text:
        return False
    try:
        policy = parse_policy(text, PolicyKind.RESOURCE, source=queue.arn)
    except PolicyError:
        return False
    context: dict[str, list[str]] = {"aws:sourceaccount": [queue.account_id]}
    if source_arn:
        context["aws:sourcearn"] = [source_arn]
    request = Request("sqs:SendMessage", queue.arn, context, {"Service": [principal]})
    return evaluate(request, [], policy).allowed


def with_permission(queue: Queue, label: str, accounts: list[str], actions: list[str]) -> str:
    """AddPermission: the queue's policy with a statement `label` allowing `accounts` the
    `actions` (SendMessage, ReceiveMessage, ... or *)."""
    doc: dict[str, Any] = json.loads(queue.attributes.get("Policy") or "{}") or {}
    doc.setdefault("Version", "2012-10-17")
    doc.setdefault("Id", f"{queue.arn}/SQSDefaultPolicy")
    statements = doc.setdefault("Statement", [])
    if isinstance(statements, dict):
        statements = doc["Statement"] = [statements]
    statements.append({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
        "Action": [f"SQS:{a}" for a in actions],
        "Resource": queue.arn,
    })  # fmt: skip
    return json.dumps(doc)


def labels(queue: Queue) -> list[str]:
    doc = json.loads(queue.attributes.get("Policy") or "{}") or {}
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return [str(s.get("Sid")) for s in statements if isinstance(s, dict) and s.get("Sid")]


def without_permission(queue: Queue, label: str) -> str:
    doc = json.loads(queue.attributes.get("Policy") or "{}") or {}
    statements = doc.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == label)]
    if not kept:
        return ""
    doc["Statement"] = kept
    return json.dumps(doc)
