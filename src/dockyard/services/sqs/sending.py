"""What a SendMessage must satisfy, as SQS checks it: the body's characters and size, message
attributes, delay, and FIFO's group and deduplication ids."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.services.sqs.errors import (
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
)
from dockyard.services.sqs.model import MessageAttribute, Queue

MAX_ATTRIBUTES = 10
MAX_DELAY = 900
ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
DATA_TYPE = re.compile(r"(String|Number|Binary)(\.[^\s]{1,249})?")
NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
GROUP_ID = re.compile(r"[!-~]{1,128}")  # alphanumeric and punctuation
_BAD_BODY = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(slots=True)
class SendRequest:
    body: str
    delay: int | None = None
    attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    trace_header: str | None = None
    group_id: str | None = None
    deduplication_id: str | None = None


def check_body(body: str) -> None:
    if body == "":
        raise MissingParameter("The request must contain the parameter MessageBody.")
    bad = _BAD_BODY.search(body)
    if bad is not None:
        raise InvalidMessageContents(
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in the message body, "
            "the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to "
            "#xFFFD | #x10000 to #x10FFFF"
        )


def check_attributes(attributes: Mapping[str, MessageAttribute]) -> int:
    """Their size in bytes (names, types and values), once valid."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParameterValue(f"Number of message attributes [{len(attributes)}] exceeds "
                                    f"the allowed maximum [{MAX_ATTRIBUTES}].")  # fmt: skip
    size = 0
    for name, attribute in attributes.items():
        lowered = name.lower()
        if (
            not ATTRIBUTE_NAME.fullmatch(name)
            or lowered.startswith(("aws.", "amazon."))
            or name.startswith(".") or name.endswith(".") or ".." in name
        ):  # fmt: skip
            raise InvalidParameterValue(
                f"Message (user) attribute '{name}' is not valid: names are 1-256 of A-Z a-z "
                "0-9 _ - . (no leading, trailing or double period; no AWS. or Amazon. prefix)."
            )
        kind = attribute.data_type
        if not DATA_TYPE.fullmatch(kind):
            raise InvalidParameterValue(f"The type of message (user) attribute '{name}' is "
                                        "invalid. You must use only the following supported "
                                        "type prefixes: Binary, Number, String.")  # fmt: skip
        if kind.startswith("Binary"):
            if not attribute.binary_value:
                raise InvalidParameterValue(f"The message attribute '{name}' must contain "
                                            "non-empty message attribute value for message "
                                            f"attribute type '{kind}'.")  # fmt: skip
            value_size = len(attribute.binary_value)
        else:
            if not attribute.string_value:
                raise InvalidParameterValue(f"The message attribute '{name}' must contain "
                                            "non-empty message attribute value for message "
                                            f"attribute type '{kind}'.")  # fmt: skip
            if kind.startswith("Number") and not NUMBER.fullmatch(attribute.string_value):
                raise InvalidParameterValue(f"Can't cast the value of message (user) attribute "
                                            f"'{name}' to a number.")  # fmt: skip
            check_body(attribute.string_value)
            value_size = len(attribute.string_value.encode("utf-8"))
        size += len(name.encode()) + len(kind.encode()) + value_size
    return size


def check(queue: Queue, request: SendRequest) -> tuple[float, str | None]:
    """Validate `request` for `queue`: (its delay in seconds, its deduplication id)."""
    check_body(request.body)
    size = len(request.body.encode("utf-8")) + check_attributes(request.attributes)
    limit = queue.number("MaximumMessageSize")
    if size > limit:
        raise InvalidParameterValue("One or more parameters are invalid. Reason: Message must "
                                    f"be shorter than {limit} bytes.")  # fmt: skip
    delay = request.delay
    if delay is not None and not 0 <= delay <= MAX_DELAY:
        raise InvalidParameterValue(f"Value {delay} for parameter DelaySeconds is invalid. "
                                    "Reason: must be between 0 and 900, if provided.")  # fmt: skip
    dedup = request.deduplication_id
    if not queue.fifo:
        if dedup is not None:
            raise InvalidParameterValue("The request include parameter that is not valid for "
                                        "this queue type (MessageDeduplicationId).")  # fmt: skip
        if request.group_id is not None and not GROUP_ID.fullmatch(request.group_id):
            raise InvalidParameterValue(f"Value {request.group_id} for parameter MessageGroupId "
                                        "is invalid.")  # fmt: skip
        return float(delay if delay is not None else queue.number("DelaySeconds")), None
    if delay is not None and delay != 0:
        raise InvalidParameterValue(f"Value {delay} for parameter DelaySeconds is invalid. "
                                    "Reason: The request include parameter that is not valid "
                                    "for this queue type.")  # fmt: skip
    if request.group_id is None:
        raise MissingParameter("The request must contain the parameter MessageGroupId.")
    if not GROUP_ID.fullmatch(request.group_id):
        raise InvalidParameterValue(f"Value {request.group_id} for parameter MessageGroupId is "
                                    "invalid. Reason: 1-128 alphanumeric or punctuation "
                                    "characters.")  # fmt: skip
    if dedup is None:
        if queue.attributes.get("ContentBasedDeduplication") != "true":
            raise InvalidParameterValue("The queue should either have ContentBasedDeduplication "
                                        "enabled or MessageDeduplicationId provided "
                                        "explicitly")  # fmt: skip
        dedup = hashlib.sha256(request.body.encode("utf-8")).hexdigest()
    elif not GROUP_ID.fullmatch(dedup):
        raise InvalidParameterValue(f"Value {dedup} for parameter MessageDeduplicationId is "
                                    "invalid.")  # fmt: skip
    return float(queue.number("DelaySeconds")), dedup


def dedup_key(queue: Queue, group_id: str | None, dedup: str) -> str:
    if queue.attributes.get("DeduplicationScope") == "messageGroup":
        return f"{group_id}/{dedup}"
    return dedup
