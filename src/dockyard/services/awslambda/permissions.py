"""Functions' resource-based policies (AddPermission, RemovePermission, GetPolicy), and the
check that a service principal may invoke a function (EventBridge rules, SNS topics)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from dockyard.core.scope import Scope
from dockyard.core.wildcard import compile_wildcard
from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    PolicyLengthExceededException,
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from dockyard.services.awslambda.functions import Functions
from dockyard.services.awslambda.model import LATEST, Function, function_arn

MAX_POLICY_BYTES = 20 * 1024
ACCOUNT = re.compile(r"\d{12}")
ACTION = re.compile(r"(lambda:[*]|lambda:[a-zA-Z]+|[*])")
INVOKE_ACTIONS = ("lambda:InvokeFunction", "lambda:*", "*")


@dataclass(slots=True)
class Grant:
    statement_id: str
    action: str
    principal: str
    source_arn: str | None = None
    source_account: str | None = None
    principal_org_id: str | None = None
    function_url_auth_type: str | None = None
    event_source_token: str | None = None


def _principal(value: str) -> dict[str, str] | str:
    if value == "*":
        return "*"
    if ACCOUNT.fullmatch(value):
        return {"AWS": f"arn:aws:iam::{value}:root"}
    if value.startswith("arn:"):
        return {"AWS": value}
    if value.endswith(".amazonaws.com") or value.endswith(".amazon.com"):
        return {"Service": value}
    raise InvalidParameterValueException(
        f"The provided principal was invalid. Please check the principal and try again: "
        f"{value} (Principal)."
    )


def statement(fn: Function, qualifier: str | None, grant: Grant) -> dict[str, Any]:
    if not ACTION.fullmatch(grant.action):
        raise InvalidParameterValueException(
            f"1 validation error detected: Value '{grant.action}' at 'action' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "(lambda:[*]|lambda:[a-zA-Z]+|[*])"
        )
    out: dict[str, Any] = {
        "Sid": grant.statement_id,
        "Effect": "Allow",
        "Principal": _principal(grant.principal),
        "Action": grant.action,
        "Resource": function_arn(fn.account_id, fn.region, fn.name, qualifier),
    }
    condition: dict[str, dict[str, str]] = {}
    if grant.source_arn:
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = grant.source_arn
    if grant.source_account:
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = grant.source_account
    if grant.principal_org_id:
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = grant.principal_org_id
    if grant.function_url_auth_type:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = (
            grant.function_url_auth_type
        )
    if grant.event_source_token:
        condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = (
            grant.event_source_token
        )
    if condition:
        out["Condition"] = condition
    return out


def _key(fn: Function, qualifier: str | None) -> str:
    if qualifier is None or qualifier == LATEST:
        return "" if qualifier is None else LATEST
    if qualifier not in fn.versions and qualifier not in fn.aliases:
        raise ResourceNotFoundException(
            f"Function not found: {function_arn(fn.account_id, fn.region, fn.name, qualifier)}"
        )
    return qualifier


class Permissions:
    def __init__(self, functions: Functions) -> None:
        self.functions = functions

    def add(
        self, scope: Scope, name: str, qualifier: str | None, grant: Grant,
        revision_id: str | None,
    ) -> dict[str, Any]:  # fmt: skip
        fn, qualifier = self.functions.resolve(scope, name, qualifier)
        key = _key(fn, qualifier)
        if revision_id is not None and revision_id != fn.latest.revision_id:
            raise PreconditionFailedException(
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetPolicy API to retrieve the latest Revision Id"
            )
        current = fn.policies.get(key, [])
        if any(s["Sid"] == grant.statement_id for s in current):
            raise ResourceConflictException(
                f"The statement id ({grant.statement_id}) provided already exists. Please "
                "provide a new statement id, or remove the existing statement."
            )
        added = statement(fn, qualifier, grant)
        if len(json.dumps([*current, added])) > MAX_POLICY_BYTES:
            raise PolicyLengthExceededException(
                "The final policy size is bigger than the limit (20480 bytes)."
            )
        new = Function.from_record(fn.to_record())
        new.policies[key] = [*current, added]
        self.functions.commit(new)
        return added

    def remove(self, scope: Scope, name: str, qualifier: str | None, sid: str) -> None:
        fn, qualifier = self.functions.resolve(scope, name, qualifier)
        key = _key(fn, qualifier)
        current = fn.policies.get(key, [])
        kept = [s for s in current if s["Sid"] != sid]
        if len(kept) == len(current):
            raise ResourceNotFoundException(f"Statement {sid} is not found in resource policy.")
        new = Function.from_record(fn.to_record())
        if kept:
            new.policies[key] = kept
        else:
            new.policies.pop(key, None)
        self.functions.commit(new)

    def policy(self, scope: Scope, name: str, qualifier: str | None) -> tuple[str, str]:
        """The policy document (JSON text) and the function's revision id."""
        fn, qualifier = self.functions.resolve(scope, name, qualifier)
        statements = fn.policies.get(_key(fn, qualifier))
        if not statements:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        doc = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        return json.dumps(doc, separators=(",", ":")), fn.latest.revision_id


def allows(fn: Function, qualifier: str | None, principal: str, source_arn: str | None) -> bool:
    """Whether the function's policy lets a service principal (`events.amazonaws.com`)
    invoke it for `source_arn` (a rule or topic ARN)."""
    key = "" if qualifier is None else qualifier
    for s in fn.policies.get(key, []):
        if s.get("Effect") != "Allow" or s.get("Action") not in INVOKE_ACTIONS:
            continue
        who = s.get("Principal")
        if who != "*" and not (isinstance(who, dict) and who.get("Service") == principal):
            continue
        condition = s.get("Condition", {})
        wanted = condition.get("ArnLike", {}).get("AWS:SourceArn")
        if wanted is not None and (source_arn is None or not compile_wildcard(wanted)(source_arn)):
            continue
        account = condition.get("StringEquals", {}).get("AWS:SourceAccount")
        if account is not None and (source_arn is None or source_arn.split(":")[4] != account):
            continue
        return True
    return False
