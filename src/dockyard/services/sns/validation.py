"""SNS's input rules: topic names, attributes, tags, message attributes, endpoints."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from dockyard.core.iampolicy import Policy, PolicyError, PolicyKind, parse_policy
from dockyard.services.sns import filterpolicy
from dockyard.services.sns.errors import (
    InvalidParameterException,
    InvalidParameterValueException,
    TagLimitExceededException,
    UnsupportedFeature,
)
from dockyard.services.sns.model import Protocol

TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_MESSAGE = 256 * 1024
MAX_SUBJECT = 100
MAX_TAGS = 50
MAX_POLICY = 30 * 1024
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[A-Za-z0-9_.-]{1,246})?$")

TOPIC_SETTABLE = {
    "Policy", "DisplayName", "DeliveryPolicy", "SignatureVersion", "TracingConfig",
    "KmsMasterKeyId", "ArchivePolicy", "DataProtectionPolicy",
    *(f"{p}{s}" for p in ("HTTP", "SQS", "Lambda", "Application", "Firehose")
      for s in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")),
}  # fmt: skip
SUBSCRIPTION_SETTABLE = {
    "DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
    "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy",
}  # fmt: skip
RAW_PROTOCOLS = {Protocol.HTTP, Protocol.HTTPS, Protocol.SQS}


def invalid(what: str, reason: str | None = None) -> InvalidParameterException:
    text = f"Invalid parameter: {what}"
    return InvalidParameterException(f"{text} Reason: {reason}" if reason else text)


def topic_name(name: str, attributes: Mapping[str, str]) -> str:
    if name.endswith(".fifo") or attributes.get("FifoTopic", "false").lower() == "true":
        raise UnsupportedFeature(
            f"Dockyard does not serve FIFO topics (Name: {name}); create a standard topic."
        )
    if not TOPIC_NAME.match(name):
        raise invalid("Topic Name")
    return name


def topic_policy(text: str, source: str = "") -> Policy:
    """A topic's access policy, parsed as a resource policy. SNS's statement ids may hold
    underscores (its default policy's `__default_statement_ID`), which IAM's may not; an id
    takes no part in a decision, so ids are set aside before IAM's rules are applied."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise PolicyError("This policy contains invalid Json") from None
    if isinstance(doc, dict) and isinstance(doc.get("Statement"), list | dict):
        items = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
        doc = {**doc, "Statement": [
            {k: v for k, v in item.items() if k != "Sid"} if isinstance(item, dict) else item
            for item in items
        ]}  # fmt: skip
    return parse_policy(json.dumps(doc), PolicyKind.RESOURCE, max_size=MAX_POLICY, source=source)


def topic_attribute(name: str, value: str, *, creating: bool = False) -> None:
    if name == "FifoTopic" and creating:
        return
    if name == "ContentBasedDeduplication":
        raise invalid("ContentBasedDeduplication", "ContentBasedDeduplication can only be set "
                      "for FIFO topics")  # fmt: skip
    if name not in TOPIC_SETTABLE:
        raise invalid("AttributeName")
    if name == "Policy":
        try:
            topic_policy(value)
        except PolicyError as exc:
            raise invalid("Policy Error", str(exc)) from None
    elif name == "DeliveryPolicy":
        delivery_policy(value, "DeliveryPolicy")
    elif name == "SignatureVersion" and value not in ("1", "2"):
        raise invalid("SignatureVersion", "must be 1 or 2")
    elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise invalid("TracingConfig", "must be PassThrough or Active")
    elif name == "DisplayName" and len(value) > MAX_SUBJECT:
        raise invalid("DisplayName", "at most 100 characters")


BACKOFF_FUNCTIONS = {"linear", "arithmetic", "geometric", "exponential"}
RETRY_COUNTS = ("numRetries", "numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries")
MAX_RETRIES = 100
HEADER_VALUE = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(; ?[ -~]{1,100})?$")
MAX_DELAY = 3600


def _json_object(value: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(value)
    except (ValueError, RecursionError):
        raise invalid(what, "failed to parse JSON.") from None
    if not isinstance(doc, dict):
        raise invalid(what, "must be a JSON object")
    return doc


def retry_policy(policy: Any, what: str) -> None:
    """An HTTP/S healthy retry policy within SNS's bounds."""
    if not isinstance(policy, dict):
        raise invalid(what, "must be a JSON object")
    for name, value in policy.items():
        if name == "backoffFunction":
            if value not in BACKOFF_FUNCTIONS:
                raise invalid(what, f"{name} must be one of {sorted(BACKOFF_FUNCTIONS)}")
        elif name in (*RETRY_COUNTS, "minDelayTarget", "maxDelayTarget"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise invalid(what, f"{name} must be a non-negative integer")
        else:
            raise invalid(what, f"Unknown retry policy field {name}")
    if policy.get("numRetries", 3) > MAX_RETRIES:
        raise invalid(what, f"numRetries must be at most {MAX_RETRIES}")
    low, high = policy.get("minDelayTarget", 20), policy.get("maxDelayTarget", 20)
    if not 1 <= low <= high <= MAX_DELAY:
        raise invalid(what, "minDelayTarget must be at least 1 and at most maxDelayTarget, "
                      f"which must be at most {MAX_DELAY}")  # fmt: skip
    phases = sum(policy.get(name, 0) for name in RETRY_COUNTS[1:])
    if phases > policy.get("numRetries", 3):
        raise invalid(what, "the retries of the phases add up to more than numRetries")


def delivery_policy(value: str, what: str, *, topic: bool = True) -> dict[str, Any]:
    """A topic's DeliveryPolicy (`http.defaultHealthyRetryPolicy`, ...) or a subscription's
    (`healthyRetryPolicy`, ...)."""
    doc = _json_object(value, what)
    if topic:
        http = doc.get("http", {})
        if not isinstance(http, dict):
            raise invalid(what, "http must be a JSON object")
        if "defaultHealthyRetryPolicy" in http:
            retry_policy(http["defaultHealthyRetryPolicy"], what)
        _request_policy(http.get("defaultRequestPolicy"), what)
    else:
        if "healthyRetryPolicy" in doc:
            retry_policy(doc["healthyRetryPolicy"], what)
        _request_policy(doc.get("requestPolicy"), what)
    return doc


def _request_policy(policy: Any, what: str) -> None:
    if policy is None:
        return
    if not isinstance(policy, dict):
        raise invalid(what, "the request policy must be a JSON object")
    kind = policy.get("headerContentType")
    if kind is not None and (not isinstance(kind, str) or not HEADER_VALUE.match(kind)):
        raise invalid(what, "headerContentType must be a media type (e.g. application/json)")


def tags(
    raw: list[dict[str, str]] | None, existing: Mapping[str, str] | None = None
) -> dict[str, str]:
    out = dict(existing or {})
    for tag in raw or []:
        key, value = tag.get("Key", ""), tag.get("Value", "")
        if not 1 <= len(key) <= 128 or len(value) > 256 or key.startswith("aws:"):
            raise invalid("Tags", f"Invalid tag: {key}")
        out[key] = value
    if len(out) > MAX_TAGS:
        raise TagLimitExceededException(
            "Could not complete request: tag quota of per resource exceeded"
        )
    return out


def protocol(text: str) -> Protocol:
    if text.lower() in ("application", "firehose"):
        raise UnsupportedFeature(f"Dockyard does not deliver to the {text} protocol (Protocol).")
    try:
        return Protocol(text.lower())
    except ValueError:
        raise invalid("Amazon SNS does not support this protocol string: " + text) from None


def endpoint(kind: Protocol, value: str | None) -> str:
    text = value or ""
    ok = {
        Protocol.HTTP: text.startswith("http://"),
        Protocol.HTTPS: text.startswith("https://"),
        Protocol.SQS: text.startswith("arn:aws:sqs:") and text.count(":") == 5,
        Protocol.LAMBDA: text.startswith("arn:aws:lambda:") and ":function:" in text,
        Protocol.EMAIL: "@" in text and " " not in text,
        Protocol.EMAIL_JSON: "@" in text and " " not in text,
        Protocol.SMS: bool(PHONE.match(text)),
    }[kind]
    if not ok:
        reason = {
            Protocol.SQS: "An SQS endpoint must be a queue ARN",
            Protocol.LAMBDA: "A Lambda endpoint must be a function ARN",
            Protocol.SMS: "An SMS endpoint must be a phone number in E.164 format",
        }.get(kind, f"Endpoint must match the specified protocol ({kind})")
        raise invalid("Endpoint", reason) if value else invalid("Endpoint")
    return text


def subscription_attribute(name: str, value: str, kind: Protocol, scope: str) -> None:
    if name not in SUBSCRIPTION_SETTABLE:
        raise invalid("AttributeName")
    if name == "RawMessageDelivery":
        if value.lower() not in ("true", "false"):
            raise invalid("RawMessageDelivery", "must be true or false")
        if value.lower() == "true" and kind not in RAW_PROTOCOLS:
            raise invalid("Attributes", f"Delivery protocol [{kind}] does not support raw "
                          "message delivery.")  # fmt: skip
    elif name == "FilterPolicyScope" and value not in (filterpolicy.ATTRIBUTES, filterpolicy.BODY):
        raise invalid("Attributes", "FilterPolicyScope: Invalid value [" + value + "]. "
                      "Please use either MessageBody or MessageAttributes")  # fmt: skip
    elif name == "FilterPolicy" and value:
        try:
            filterpolicy.parse(value, scope)
        except filterpolicy.FilterPolicyError as exc:
            raise invalid("FilterPolicy", str(exc)) from None
    elif name == "DeliveryPolicy":
        delivery_policy(value, "DeliveryPolicy", topic=False)
    elif name == "RedrivePolicy":
        doc = _json_object(value, "RedrivePolicy")
        target = doc.get("deadLetterTargetArn")
        if not isinstance(target, str) or not target.startswith("arn:aws:sqs:"):
            raise invalid("RedrivePolicy", "deadLetterTargetArn must be an SQS queue ARN")
    elif name == "ReplayPolicy":
        raise UnsupportedFeature("Dockyard does not replay messages (ReplayPolicy).")


def message_attributes(raw: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    """MessageAttributes as Publish takes them -> name -> {Type, Value} (Binary base64)."""
    import base64

    out: dict[str, dict[str, str]] = {}
    for name, attr in (raw or {}).items():
        if not ATTRIBUTE_NAME.match(name) or name.startswith(("AWS.", "Amazon.")) or ".." in name:
            raise invalid("MessageAttributes", f"Invalid attribute name: {name}")
        data_type = str(attr.get("DataType", ""))
        if not DATA_TYPE.match(data_type) and data_type != "String.Array":
            raise invalid("MessageAttributes", f"The message attribute '{name}' has an invalid "
                          f"message attribute type, the set of supported type prefixes is "
                          "Binary, Number, and String.")  # fmt: skip
        if data_type.startswith("Binary"):
            blob = attr.get("BinaryValue")
            if blob is None:
                raise invalid("MessageAttributes", f"The message attribute '{name}' must "
                              "contain non-empty message attribute value.")  # fmt: skip
            value = base64.b64encode(
                blob if isinstance(blob, bytes) else str(blob).encode()
            ).decode()
        else:
            value = attr.get("StringValue")
            if value is None or value == "":
                raise invalid("MessageAttributes", f"The message attribute '{name}' must "
                              "contain non-empty message attribute value for message attribute "
                              f"type '{data_type.split('.')[0]}'.")  # fmt: skip
            if data_type.startswith("Number"):
                try:
                    float(value)
                except ValueError:
                    raise invalid("MessageAttributes", f"Could not cast message attribute "
                                  f"'{name}' value to number.") from None  # fmt: skip
            if data_type == "String.Array":
                try:
                    items = json.loads(value)
                except (ValueError, RecursionError):
                    items = None
                if not isinstance(items, list):
                    raise invalid("MessageAttributes", f"The message attribute '{name}' with "
                                  "type 'String.Array' must be a JSON array.")  # fmt: skip
        out[name] = {"Type": data_type, "Value": str(value)}
    return out


def message_size(message: str, attributes: Mapping[str, Mapping[str, str]]) -> None:
    size = len(message.encode()) + sum(
        len(k.encode()) + len(v["Type"].encode()) + len(v["Value"].encode())
        for k, v in attributes.items()
    )
    if size > MAX_MESSAGE:
        raise invalid("Message too long")


def subject(text: str | None) -> str | None:
    if text is None:
        return None
    if not text or len(text) > MAX_SUBJECT or not text.isascii() or any(c in text for c in "\r\n"):
        raise invalid("Subject")
    return text


def structured(message: str) -> dict[str, str]:
    """A MessageStructure json message: a JSON object with a `default` entry."""
    try:
        doc = json.loads(message)
    except (ValueError, RecursionError):
        raise invalid("Message Structure - JSON message body failed to parse") from None
    if not isinstance(doc, dict) or not all(isinstance(v, str) for v in doc.values()):
        raise invalid("Message Structure - JSON message body failed to parse")
    if "default" not in doc:
        raise invalid("Message Structure - No default entry in JSON message body")
    return {str(k): v for k, v in doc.items()}


__all__ = ["InvalidParameterValueException", "invalid"]
