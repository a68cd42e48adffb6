"""Queues of every account and region: create, find, attributes, tags, delete, purge.
Written through to the store (kind `sqs.queue`) before memory changes."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from urllib.parse import urlparse

from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.sqs import attributes
from dockyard.services.sqs.errors import (
    InvalidAttributeName,
    InvalidParameterValue,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
    no_queue,
)
from dockyard.services.sqs.model import DEDUP_KIND, MESSAGE_KIND, QUEUE_KIND, Queue, queue_arn
from dockyard.services.sqs.state import QueueState
from dockyard.store.base import Store

log = logging.getLogger(__name__)

NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
DELETE_COOLDOWN = 60.0  # a name deleted is free again after this long
PURGE_COOLDOWN = 60.0
MAX_TAGS = 50


def check_name(name: str, fifo: bool) -> None:
    base = name.removesuffix(".fifo") if fifo else name
    if len(name) > 80 or not NAME.fullmatch(base):
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
            f"length (QueueName: {name})."
        )
    if fifo and not name.endswith(".fifo"):
        raise InvalidParameterValue("The name of a FIFO queue can only include alphanumeric "
                                    "characters, hyphens, or underscores, must end with .fifo "
                                    "suffix and be 1 to 80 in length.")  # fmt: skip
    if not fifo and name.endswith(".fifo"):
        raise InvalidParameterValue(
            "The name of a standard queue cannot end with .fifo; set FifoQueue to true for a "
            f"FIFO queue (QueueName: {name})."
        )


def check_tags(tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidParameterValue(f"Too many tags added for queue: at most {MAX_TAGS}.")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise InvalidParameterValue(
                f"Tag keys are 1 to 128 characters and values at most 256 (key: {key[:128]})."
            )


def name_from_url(url: str) -> tuple[str | None, str]:
    """(account, name) of a queue URL (`http://host/<account>/<name>`)."""
    try:
        path = urlparse(url).path if "://" in url else url
    except ValueError:
        path = ""
    parts = [p for p in path.split("/") if p]
    if len(parts) == 2 and parts[0].isdigit():
        return parts[0], parts[1]
    if len(parts) == 1 and "://" not in url:
        return None, parts[0]
    raise InvalidParameterValue(f"Value {url} for parameter QueueUrl is invalid. Reason: "
                                "the URL names no account and queue.")  # fmt: skip


class Queues:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.states: dict[str, QueueState] = {}  # by queue ARN
        self.deleted: dict[str, float] = {}  # ARN -> when deleted (QueueDeletedRecently)

    def load(self) -> None:
        self.states.clear()
        for _key, body in self.store.load(QUEUE_KIND):
            queue = Queue.from_dict(body)
            self.states[queue.arn] = QueueState(queue)

    def reset(self) -> None:
        for state in self.states.values():
            state.wake()
        self.states.clear()
        self.deleted.clear()

    # -- finding ----------------------------------------------------------------------------

    def find(self, arn: str) -> QueueState | None:
        return self.states.get(arn)

    def by_url(self, scope: Scope, url: str) -> QueueState:
        account, name = name_from_url(url)
        state = self.states.get(queue_arn(Scope(account or scope.account_id, scope.region), name))
        if state is None:
            raise no_queue()
        return state

    def by_name(self, scope: Scope, name: str, owner: str | None = None) -> QueueState:
        state = self.states.get(queue_arn(Scope(owner or scope.account_id, scope.region), name))
        if state is None:
            raise no_queue()
        return state

    def of_scope(self, scope: Scope, prefix: str = "") -> list[Queue]:
        found = [
            s.queue for s in self.states.values()
            if s.queue.scope == scope and s.queue.name.startswith(prefix)
        ]  # fmt: skip
        return sorted(found, key=lambda q: q.name)

    # -- changes ------------------------------------------------------------------------------

    def save(self, queue: Queue) -> None:
        self.store.put(QUEUE_KIND, queue.arn, queue.to_dict())

    def create(
        self, scope: Scope, name: str, given: Mapping[str, str], tags: Mapping[str, str]
    ) -> Queue:
        fifo = str(given.get("FifoQueue", "false")).lower() == "true"
        check_name(name, fifo)
        checked = attributes.check(given, fifo, creating=True)
        arn = queue_arn(scope, name)
        self._check_redrive(arn, {**checked, "FifoQueue": str(fifo).lower()})
        check_tags(tags)
        existing = self.states.get(arn)
        if existing is not None:
            current = existing.queue.attributes
            for key, value in checked.items():
                if current.get(key, attributes.defaults(fifo).get(key, "")) != value:
                    raise QueueNameExists(
                        "A queue already exists with the same name and a different value for "
                        f"attribute {key}"
                    )
            return existing.queue
        gone = self.deleted.get(arn)
        if gone is not None and self.clock.now() - gone < DELETE_COOLDOWN:
            raise QueueDeletedRecently(
                "You must wait 60 seconds after deleting a queue before you can create another "
                "with the same name."
            )
        now = self.clock.now()
        queue = Queue(name, scope.account_id, scope.region, now, now,
                      {**attributes.defaults(fifo), **checked}, dict(tags))  # fmt: skip
        self.save(queue)
        self.states[arn] = QueueState(queue)
        log.info("sqs: created queue %s", name, extra={"arn": arn})
        return queue

    def _check_redrive(self, source_arn: str, checked: Mapping[str, str]) -> None:
        text = checked.get("RedrivePolicy")
        if not text:
            return
        target, _ = attributes.redrive(text, fifo=checked.get("FifoQueue") == "true")
        dlq = self.states.get(target)
        problem = None
        if dlq is None:
            problem = "Dead letter target does not exist."
        elif dlq.queue.attributes.get("RedriveAllowPolicy"):
            permission, sources = attributes.redrive_allow(
                dlq.queue.attributes["RedriveAllowPolicy"]
            )
            if permission is attributes.RedrivePermission.DENY_ALL or (
                permission is attributes.RedrivePermission.BY_QUEUE and source_arn not in sources
            ):
                problem = "The dead-letter queue's RedriveAllowPolicy does not allow this queue."
        if problem is not None:
            raise InvalidParameterValue(
                f"Value {text} for parameter RedrivePolicy is invalid. Reason: {problem}"
            )

    def set_attributes(self, state: QueueState, given: Mapping[str, str]) -> None:
        queue = state.queue
        checked = attributes.check(given, queue.fifo, creating=False)
        self._check_redrive(queue.arn, {**checked, "FifoQueue": str(queue.fifo).lower()})
        merged = {**queue.attributes, **checked}
        for key in ("Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId"):
            if merged.get(key) == "":
                del merged[key]
        if merged.get("KmsMasterKeyId"):
            merged.setdefault("KmsDataKeyReusePeriodSeconds", "300")
            merged["SqsManagedSseEnabled"] = "false"
        updated = Queue(queue.name, queue.account_id, queue.region, queue.created,
                        self.clock.now(), merged, dict(queue.tags))  # fmt: skip
        self.save(updated)
        state.queue = updated

    def tag(self, state: QueueState, tags: Mapping[str, str]) -> None:
        merged = {**state.queue.tags, **tags}
        check_tags(merged)
        self._retag(state, merged)

    def untag(self, state: QueueState, keys: list[str]) -> None:
        self._retag(state, {k: v for k, v in state.queue.tags.items() if k not in keys})

    def _retag(self, state: QueueState, tags: dict[str, str]) -> None:
        queue = state.queue
        updated = Queue(queue.name, queue.account_id, queue.region, queue.created,
                        queue.modified, dict(queue.attributes), tags)  # fmt: skip
        self.save(updated)
        state.queue = updated

    def delete(self, state: QueueState) -> None:
        arn = state.queue.arn
        gone = [(MESSAGE_KIND, m.key) for m in state.messages.values()]
        gone += [(DEDUP_KIND, f"{arn}/{key}") for key in state.dedup]
        self.store.write(deletes=[(QUEUE_KIND, arn), *gone])
        self.states.pop(arn, None)
        state.clear()
        state.wake()
        self.deleted[arn] = self.clock.now()
        log.info("sqs: deleted queue %s", state.queue.name, extra={"arn": arn})

    def purge(self, state: QueueState) -> int:
        now = self.clock.now()
        if state.purged_at is not None and now - state.purged_at < PURGE_COOLDOWN:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {state.queue.name} is allowed every 60 seconds."
            )
        self.store.write(deletes=[(MESSAGE_KIND, m.key) for m in state.messages.values()])
        state.purged_at = now
        return len(state.clear())

    def dead_letter_sources(self, state: QueueState) -> list[Queue]:
        arn = state.queue.arn
        found = []
        for other in self.states.values():
            text = other.queue.attributes.get("RedrivePolicy")
            if text and json.loads(text).get("deadLetterTargetArn") == arn:
                found.append(other.queue)
        return sorted(found, key=lambda q: q.name)

    def shown_attributes(self, state: QueueState, names: list[str]) -> dict[str, str]:
        """GetQueueAttributes: the named attributes (All: every one)."""
        known = (*attributes.SETTABLE, *attributes.READ_ONLY)
        for name in names:
            if name != "All" and name not in known:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
        queue = state.queue
        visible, flight, delayed = state.counts(self.clock.now())
        everything = {
            "QueueArn": queue.arn,
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(flight),
            "ApproximateNumberOfMessagesDelayed": str(delayed),
            "CreatedTimestamp": str(int(queue.created)),
            "LastModifiedTimestamp": str(int(queue.modified)),
            **queue.attributes,
        }
        if "All" in names:
            return everything
        return {name: everything[name] for name in names if name in everything}


__all__ = ["QueueDoesNotExist", "Queues", "check_name", "name_from_url"]
