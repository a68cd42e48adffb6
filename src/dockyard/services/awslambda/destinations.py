"""Where an asynchronous invocation's outcome goes (DestinationConfig OnSuccess / OnFailure):
an SQS queue, an SNS topic, another function or the default event bus, each through its
`core` port. The record is Lambda's invocation record. As in AWS, Lambda sends it with the
function's execution role: that role's policies must allow sqs:SendMessage / sns:Publish /
lambda:InvokeFunction / events:PutEvents on the destination (when policies are enforced),
and a queue or topic of the function's own account needs no resource policy for it."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from dockyard.core import timefmt
from dockyard.core.eventbus import EventSink
from dockyard.core.queues import Outgoing, QueueRefused, QueueSender
from dockyard.core.rolecredentials import RolePermissions
from dockyard.core.scope import Scope
from dockyard.core.topics import PublishRefused, TopicPublisher
from dockyard.services.awslambda.errors import InvalidParameterValueException

log = logging.getLogger(__name__)

PRINCIPAL = "lambda.amazonaws.com"
QueueEvent = Callable[[Scope, str, bytes], str]  # (scope, function ARN, payload) -> request id
ACTIONS = {"sqs": "sqs:SendMessage", "sns": "sns:Publish", "lambda": "lambda:InvokeFunction",
           "events": "events:PutEvents"}  # fmt: skip


def kind_of(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    if parts[2] == "sqs":
        return "sqs"
    if parts[2] == "sns":
        return "sns"
    if parts[2] == "lambda" and parts[5] == "function":
        return "lambda"
    if parts[2] == "events" and parts[5].startswith("event-bus/"):
        return "events"
    return None


def record(
    request_id: str, function_arn: str, condition: str, attempts: int, payload: bytes,
    status: int, version: str, function_error: str | None, response: bytes, now: float,
) -> dict[str, Any]:  # fmt: skip
    def doc(raw: bytes) -> Any:
        try:
            return json.loads(raw) if raw.strip() else None
        except ValueError:
            return raw.decode(errors="replace")

    context: dict[str, Any] = {"statusCode": status, "executedVersion": version}
    if function_error:
        context["functionError"] = function_error
    return {
        "version": "1.0",
        "timestamp": timefmt.iso(now),
        "requestContext": {"requestId": request_id, "functionArn": function_arn,
                           "condition": condition, "approximateInvokeCount": attempts},
        "requestPayload": doc(payload),
        "responseContext": context,
        "responsePayload": doc(response),
    }  # fmt: skip


class Destinations:
    def __init__(
        self, queues: QueueSender | None = None, topics: TopicPublisher | None = None,
        events: EventSink | None = None,
    ) -> None:  # fmt: skip
        self.queues = queues
        self.topics = topics
        self.events = events
        self.functions: QueueEvent | None = None  # set by Lambda: its own Event invocations
        # The execution role's policies (None: not enforced, as without --auth-file).
        self.permissions: RolePermissions | None = None

    def check(self, scope: Scope, arn: str) -> None:
        kind = kind_of(arn)
        wired = {"sqs": self.queues, "sns": self.topics, "events": self.events,
                 "lambda": self.functions}.get(kind or "")  # fmt: skip
        if kind is None or wired is None:
            raise InvalidParameterValueException(
                f"The destination ARN {arn} is invalid or not served here: use an SQS queue, "
                "an SNS topic, a Lambda function or the default event bus (DestinationConfig)."
            )
        if kind == "events" and not arn.endswith("event-bus/default"):
            raise InvalidParameterValueException(
                f"Dockyard sends invocation records to the default event bus only ({arn})."
            )

    def send(
        self, scope: Scope, arn: str, rec: dict[str, Any], function_arn: str,
        role_arn: str = "", session: str = "",
    ) -> None:  # fmt: skip
        """Send `rec` as a session `session` of the execution role `role_arn`."""
        body = json.dumps(rec)
        kind = kind_of(arn)
        action = ACTIONS.get(kind or "")
        if self.permissions is not None and role_arn and action:
            denial = self.permissions.denial(scope.account_id, role_arn, session, action, arn)
            if denial is not None:
                log.warning("lambda: destination %s refused the record: %s", arn, denial)
                return
        # In the function's own account the role's policies are what counts; a queue or topic
        # of another account must also allow it by its resource policy.
        principal = None if arn.split(":")[4] == scope.account_id else PRINCIPAL
        try:
            if kind == "sqs" and self.queues is not None:
                self.queues.send(arn, Outgoing(body, source_arn=function_arn, principal=principal))
            elif kind == "sns" and self.topics is not None:
                self.topics.publish(arn, body, principal=principal, source_arn=function_arn)
            elif kind == "lambda" and self.functions is not None:
                self.functions(scope, arn, body.encode())
            elif kind == "events" and self.events is not None:
                success = rec["requestContext"]["condition"] == "Success"
                self.events.emit({
                    "version": "0", "id": str(uuid.uuid4()),
                    "detail-type": "Lambda Function Invocation Result - "
                                   + ("Success" if success else "Failure"),
                    "source": "lambda", "account": scope.account_id, "region": scope.region,
                    "time": rec["timestamp"][:19] + "Z",
                    "resources": [function_arn], "detail": rec,
                })  # fmt: skip
            else:
                log.warning("lambda: destination %s is not served", arn)
        except (QueueRefused, PublishRefused) as exc:
            log.warning("lambda: destination %s refused the record: %s", arn, exc)
        except Exception:
            log.exception("lambda: cannot send to destination %s", arn)
