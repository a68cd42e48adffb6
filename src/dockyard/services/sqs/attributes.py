"""Queue attributes: names, defaults and valid values as SQS documents them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from enum import StrEnum

from dockyard.core.iampolicy import PolicyError, PolicyKind, parse_policy
from dockyard.services.sqs.errors import InvalidAttributeName, InvalidAttributeValue

# name -> (low, high, default) for the numeric ones.
NUMERIC: dict[str, tuple[int, int, int]] = {
    "DelaySeconds": (0, 900, 0),
    "MaximumMessageSize": (1024, 1_048_576, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600, 345_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20, 0),
    "VisibilityTimeout": (0, 43_200, 30),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400, 300),
}
BOOLEAN = ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled")
FIFO_ONLY = ("ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit")
TEXT = ("Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId",
        "DeduplicationScope", "FifoThroughputLimit")  # fmt: skip
SETTABLE = (*NUMERIC, *BOOLEAN, *TEXT)
READ_ONLY = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
)
MAX_POLICY_BYTES = 20_480
MAX_REDRIVE_SOURCES = 10


class RedrivePermission(StrEnum):
    ALLOW_ALL = "allowAll"
    DENY_ALL = "denyAll"
    BY_QUEUE = "byQueue"


def defaults(fifo: bool) -> dict[str, str]:
    out = {name: str(default) for name, (_, _, default) in NUMERIC.items()}
    del out["KmsDataKeyReusePeriodSeconds"]  # only shown with a KMS key
    out["SqsManagedSseEnabled"] = "true"
    if fifo:
        out.update(FifoQueue="true", ContentBasedDeduplication="false",
                   DeduplicationScope="queue", FifoThroughputLimit="perQueue")  # fmt: skip
    return out


def _bad(name: str, detail: str = "") -> InvalidAttributeValue:
    return InvalidAttributeValue(f"Invalid value for the parameter {name}.{detail}")


def check(attributes: Mapping[str, str], fifo: bool, creating: bool) -> dict[str, str]:
    """The attributes, validated and normalised (booleans lower-cased)."""
    out: dict[str, str] = {}
    for name, value in attributes.items():
        if name not in SETTABLE:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name in NUMERIC:
            low, high, _ = NUMERIC[name]
            if not re.fullmatch(r"-?[0-9]{1,12}", value.strip()) or not low <= int(value) <= high:
                raise _bad(name, f" Valid values: an integer from {low} to {high}.")
            out[name] = str(int(value))
        elif name in BOOLEAN:
            if value.lower() not in ("true", "false"):
                raise _bad(name)
            out[name] = value.lower()
        else:
            out[name] = value
    if "FifoQueue" in out:
        if not creating:
            raise InvalidAttributeName("Unknown Attribute FifoQueue.")  # fixed at creation
        if out["FifoQueue"] == "false" and fifo:
            raise _bad("FifoQueue")
        if out["FifoQueue"] == "false":
            del out["FifoQueue"]
    if not fifo:
        for name in FIFO_ONLY:
            if name in out and not (name == "ContentBasedDeduplication" and out[name] == "false"):
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
        out.pop("ContentBasedDeduplication", None)
    if "DeduplicationScope" in out and out["DeduplicationScope"] not in ("queue", "messageGroup"):
        raise _bad("DeduplicationScope")
    limit = out.get("FifoThroughputLimit")
    if limit is not None and limit not in ("perQueue", "perMessageGroupId"):
        raise _bad("FifoThroughputLimit")
    if out.get("Policy"):
        if len(out["Policy"].encode()) > MAX_POLICY_BYTES:
            raise _bad("Policy", " The policy is larger than 20 KiB.")
        try:
            parse_policy(out["Policy"], PolicyKind.RESOURCE)
        except PolicyError as exc:
            raise _bad("Policy", f" {exc}") from None
    if out.get("RedrivePolicy"):
        redrive(out["RedrivePolicy"], fifo)
    if out.get("RedriveAllowPolicy"):
        redrive_allow(out["RedriveAllowPolicy"])
    return out


def _doc(name: str, text: str) -> dict[str, object]:
    try:
        doc = json.loads(text)
    except ValueError:
        raise _bad(name, " It must be a JSON object.") from None
    if not isinstance(doc, dict):
        raise _bad(name, " It must be a JSON object.")
    return doc


def redrive(text: str, fifo: bool) -> tuple[str, int]:
    """(deadLetterTargetArn, maxReceiveCount) of a RedrivePolicy."""
    doc = _doc("RedrivePolicy", text)
    target = doc.get("deadLetterTargetArn")
    count = doc.get("maxReceiveCount", 10)
    if set(doc) - {"deadLetterTargetArn", "maxReceiveCount"}:
        raise _bad("RedrivePolicy", " Only deadLetterTargetArn and maxReceiveCount are valid.")
    if not isinstance(target, str) or not target.startswith("arn:aws:sqs:"):
        raise _bad("RedrivePolicy", " Reason: Dead-letter target ARN is invalid.")
    try:
        number = int(str(count))
    except ValueError:
        raise _bad("RedrivePolicy", " Reason: Invalid value for maxReceiveCount.") from None
    if not 1 <= number <= 1000:
        raise _bad("RedrivePolicy", " Reason: Invalid value for maxReceiveCount: "
                   f"{count}, valid values are from 1 to 1000 both inclusive.")  # fmt: skip
    if target.endswith(".fifo") != fifo:
        raise _bad("RedrivePolicy", " Reason: The dead-letter queue of a FIFO queue must also "
                   "be a FIFO queue; of a standard queue, a standard queue.")  # fmt: skip
    return target, number


def redrive_allow(text: str) -> tuple[RedrivePermission, list[str]]:
    doc = _doc("RedriveAllowPolicy", text)
    try:
        permission = RedrivePermission(str(doc.get("redrivePermission", "allowAll")))
    except ValueError:
        raise _bad("RedriveAllowPolicy", " Reason: redrivePermission must be allowAll, "
                   "denyAll or byQueue.") from None  # fmt: skip
    sources = doc.get("sourceQueueArns")
    if permission is RedrivePermission.BY_QUEUE:
        if (
            not isinstance(sources, list)
            or not sources
            or not all(isinstance(s, str) for s in sources)
        ):
            raise _bad("RedriveAllowPolicy", " Reason: byQueue needs sourceQueueArns.")
        if len(sources) > MAX_REDRIVE_SOURCES:
            raise _bad("RedriveAllowPolicy", " Reason: at most 10 sourceQueueArns.")
        return permission, [str(s) for s in sources]
    if sources is not None:
        raise _bad("RedriveAllowPolicy", " Reason: sourceQueueArns is only for byQueue.")
    return permission, []
