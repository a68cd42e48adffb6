"""The delivery queue: every message for every subscription is a record (kind `sns.delivery`,
sealed) written before Publish answers; one worker task makes the deliveries after, retries
them by the subscription's policy and deletes each record once delivered or given up on (to
the subscription's dead-letter queue when it has a RedrivePolicy). After a restart, `load`
finds what was committed and not yet delivered."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import heapq
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from dockyard.core.clock import Clock
from dockyard.core.functions import FunctionInvoker, InvokeRefused
from dockyard.core.queues import Attribute, Outgoing, QueueRefused, QueueSender
from dockyard.services.sns import envelope, retries
from dockyard.services.sns.model import DELIVERY_KIND, Delivery, Subscription
from dockyard.services.sns.model import Protocol as Kind
from dockyard.services.sns.signing import Signer
from dockyard.services.sns.topics import Topics
from dockyard.store.base import Store

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 15.0
CONCURRENCY = 8
PRINCIPAL = "sns.amazonaws.com"
LOG_GROUP = "/dockyard/sns/{topic}"  # where email, email-json and sms deliveries are written


class LogSink(Protocol):
    """CloudWatch Logs (the Logs service has this method)."""

    def put_events(self, account_id: str, region: str, group: str, stream: str,
                   events: list[tuple[int, str]], create_group: bool) -> None: ...  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    retryable: bool = True  # a server-side failure (5xx, no answer); False: client-side
    detail: str = ""


def stream_name(kind: str, endpoint: str) -> str:
    return re.sub(r"[:*]", "_", f"{kind}/{endpoint}")[:512]


def sqs_attributes(delivery: Delivery) -> dict[str, Attribute]:
    out: dict[str, Attribute] = {}
    for name, attr in delivery.attributes.items():
        if attr["Type"].startswith("Binary"):
            out[name] = Attribute(attr["Type"], binary_value=base64.b64decode(attr["Value"]))
        else:
            out[name] = Attribute(attr["Type"], string_value=attr["Value"])
    return out


def with_basic_auth(url: str, headers: dict[str, str]) -> str:
    """An endpoint with `user:password@` (SNS's basic access authentication): the URL without
    them, and the Authorization header they make."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    headers["Authorization"] = f"Basic {token}"
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    headers = dict(headers)
    try:
        url = with_basic_auth(url, headers)
    except ValueError as exc:
        return Outcome(False, False, f"the endpoint is not a valid URL: {exc}")
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as resp:
            return Outcome(200 <= resp.status < 300, True, f"HTTP {resp.status}")
    except urllib.error.HTTPError as exc:
        return Outcome(False, exc.code >= 500, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Outcome(False, True, str(exc))


class Deliveries:
    def __init__(self, store: Store, clock: Clock, topics: Topics, urls: envelope.Urls) -> None:
        self.store = store
        self.clock = clock
        self.topics = topics
        self.urls = urls
        self.signer: Signer | None = None  # set by the service once loaded
        self.queues: QueueSender | None = None
        self.functions: FunctionInvoker | None = None
        self.logs: LogSink | None = None
        self.pending: dict[str, Delivery] = {}
        self._heap: list[tuple[float, str]] = []
        self._busy: set[str] = set()
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._slots: asyncio.Semaphore | None = None
        self.recent: list[dict[str, str]] = []  # recent outcomes, for inspection

    def load(self) -> None:
        self.reset()
        for _key, body in self.store.load(DELIVERY_KIND):
            self._queue(Delivery.from_dict(body))

    def reset(self) -> None:
        self.pending.clear()
        self._heap.clear()

    def commit(self, deliveries: list[Delivery]) -> None:
        """Write the deliveries (one transaction), then queue them: nothing is queued when
        the write fails."""
        if not deliveries:
            return
        self.store.write(puts=[(DELIVERY_KIND, d.id, d.to_dict()) for d in deliveries])
        for delivery in deliveries:
            self._queue(delivery)

    def _queue(self, delivery: Delivery) -> None:
        self.pending[delivery.id] = delivery
        heapq.heappush(self._heap, (delivery.due, delivery.id))
        if self._wake is not None:
            self._wake.set()

    # -- the worker -----------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._slots = asyncio.Semaphore(CONCURRENCY)
            self._task = asyncio.create_task(self._run(), name="sns-delivery")

    async def stop(self) -> None:
        """Stop delivering; what is not yet delivered stays in the store for the next start."""
        if self._task is not None:  # first: no new delivery starts
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._inflight):
            task.cancel()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)

    async def _run(self) -> None:
        assert self._wake is not None and self._slots is not None
        while True:
            now = self.clock.now()
            while self._heap and self._heap[0][0] <= now:
                _, key = heapq.heappop(self._heap)
                delivery = self.pending.get(key)
                if delivery is None or key in self._busy:
                    continue
                await self._slots.acquire()
                self._busy.add(key)
                task = asyncio.create_task(self._slot(delivery), name=f"sns-delivery-{key}")
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            self._wake.clear()
            wait = self._heap[0][0] - self.clock.now() if self._heap else 3600.0
            sleeper = asyncio.ensure_future(self.clock.sleep(max(0.0, min(wait, 3600.0))))
            waker = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            sleeper.cancel()
            waker.cancel()

    async def deliver_due(self) -> int:
        """Make every due delivery now, one after another (for callers without the worker,
        such as unit tests); how many were attempted."""
        due = [d for d in self.pending.values() if d.due <= self.clock.now()]
        for delivery in due:
            await self._one(delivery)
        return len(due)

    async def _slot(self, delivery: Delivery) -> None:
        assert self._slots is not None
        try:
            await self._one(delivery)
        finally:
            self._busy.discard(delivery.id)
            self._slots.release()

    async def _one(self, delivery: Delivery) -> None:
        sub = self.topics.subscriptions.get(delivery.subscription_arn)
        if sub is None:
            self._finish(delivery, "dropped: the subscription is gone")
            return
        try:
            outcome = await self.attempt(delivery, sub)
        except Exception as exc:  # a bug of ours or a collaborator: retried
            log.exception("sns: delivery %s failed", delivery.id,
                          extra={"subscription_arn": sub.arn})  # fmt: skip
            outcome = Outcome(False, True, str(exc))
        if outcome.delivered:
            self._finish(delivery, "delivered")
            return
        delay = self._retry_delay(sub, delivery.attempts + 1) if outcome.retryable else None
        if delay is None:
            await self._give_up(delivery, sub, outcome.detail)
            return
        delivery.attempts += 1
        delivery.due = self.clock.now() + delay
        try:
            self.store.put(DELIVERY_KIND, delivery.id, delivery.to_dict())
        except Exception as exc:  # kept in memory; the next attempt writes again
            log.warning("sns: cannot record a retry of %s: %s", delivery.id, exc)
        log.info("sns: %s to %s failed (%s); retry %d in %.1f s", delivery.kind,
                 sub.endpoint, outcome.detail, delivery.attempts, delay,
                 extra={"subscription_arn": sub.arn})  # fmt: skip
        self._busy.discard(delivery.id)  # before it is queued again: the worker may take it
        self._queue(delivery)

    def _retry_delay(self, sub: Subscription, retry: int) -> float | None:
        if sub.protocol in (Kind.HTTP, Kind.HTTPS):
            topic = self.topics.topics.get(sub.topic_arn)
            topic_policy = topic.attributes.get("DeliveryPolicy") if topic else None
            policy = retries.http_policy(topic_policy, sub.attributes.get("DeliveryPolicy"))
            return retries.http_delay(policy, retry)
        return retries.managed_delay(retry)

    def _finish(self, delivery: Delivery, outcome: str) -> None:
        try:
            self.store.delete(DELIVERY_KIND, delivery.id)
        except Exception as exc:  # delivered again after a restart: at least once, as SNS
            log.warning("sns: cannot forget delivery %s: %s", delivery.id, exc)
        self.pending.pop(delivery.id, None)
        self.recent.append({"delivery": delivery.id, "subscription": delivery.subscription_arn,
                            "message": delivery.message_id, "outcome": outcome})  # fmt: skip
        del self.recent[:-200]

    async def _give_up(self, delivery: Delivery, sub: Subscription, detail: str) -> None:
        redrive = sub.attributes.get("RedrivePolicy")
        target = json.loads(redrive).get("deadLetterTargetArn") if redrive else None
        if target and self.queues is not None and delivery.kind == "Notification":
            body = envelope.as_text(self._document(delivery, sub))
            try:
                self.queues.send(target, Outgoing(body, sqs_attributes(delivery),
                                                  source_arn=sub.topic_arn,
                                                  principal=PRINCIPAL))  # fmt: skip
            except QueueRefused as exc:
                log.warning("sns: dead-letter queue %s refused %s: %s", target,
                            delivery.message_id, exc,
                            extra={"subscription_arn": sub.arn})  # fmt: skip
            else:
                self._finish(delivery, f"sent to the dead-letter queue ({detail})")
                return
        log.warning("sns: gave up on %s %s to %s: %s", delivery.kind, delivery.message_id,
                    sub.endpoint, detail, extra={"subscription_arn": sub.arn})  # fmt: skip
        self._finish(delivery, f"failed: {detail}")

    # -- one attempt ----------------------------------------------------------------------

    def _version(self, sub: Subscription) -> str:
        topic = self.topics.topics.get(sub.topic_arn)
        return (topic.attributes.get("SignatureVersion") if topic else None) or "1"

    def _document(self, delivery: Delivery, sub: Subscription) -> dict[str, object]:
        assert self.signer is not None
        make = envelope.confirmation if delivery.kind != "Notification" else envelope.notification
        return make(delivery, sub, self.signer, self.urls, self._version(sub))

    async def attempt(self, delivery: Delivery, sub: Subscription) -> Outcome:
        kind = Kind(sub.protocol)
        if kind in (Kind.HTTP, Kind.HTTPS):
            raw = sub.raw and delivery.kind == "Notification"
            body = delivery.message if raw else envelope.as_text(self._document(delivery, sub))
            headers = envelope.headers(delivery, sub, raw)
            topic = self.topics.topics.get(sub.topic_arn)
            chosen = retries.content_type(
                topic.attributes.get("DeliveryPolicy") if topic else None,
                sub.attributes.get("DeliveryPolicy"),
            )
            if chosen:
                headers["Content-Type"] = chosen
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, _post, sub.endpoint, body.encode(), headers)
        if kind == Kind.SQS:
            if self.queues is None:
                return Outcome(False, True, "SQS is not served by this server")
            if sub.raw:
                message = Outgoing(delivery.message, sqs_attributes(delivery),
                                   source_arn=sub.topic_arn, principal=PRINCIPAL)  # fmt: skip
            else:
                message = Outgoing(envelope.as_text(self._document(delivery, sub)),
                                   source_arn=sub.topic_arn, principal=PRINCIPAL)  # fmt: skip
            try:
                self.queues.send(sub.endpoint, message)
            except QueueRefused as exc:
                return Outcome(False, False, f"{exc.code}: {exc.message}")
            return Outcome(True)
        if kind == Kind.LAMBDA:
            if self.functions is None:
                return Outcome(False, True, "Lambda is not served by this server")
            assert self.signer is not None
            payload = envelope.lambda_event(delivery, sub, self.signer, self.urls,
                                            self._version(sub))  # fmt: skip
            try:
                await self.functions.invoke_event(sub.endpoint, payload, principal=PRINCIPAL,
                                                  source_arn=sub.topic_arn)  # fmt: skip
            except InvokeRefused as exc:
                retryable = exc.code == "TooManyRequestsException"
                return Outcome(False, retryable, f"{exc.code}: {exc.message}")
            return Outcome(True)
        return self._record(delivery, sub, kind)

    def _record(self, delivery: Delivery, sub: Subscription, kind: Kind) -> Outcome:
        """email, email-json and sms cannot be sent from here: written to a log group."""
        if self.logs is None:
            return Outcome(False, True, "CloudWatch Logs is not wired")
        topic_name = sub.topic_arn.rsplit(":", 1)[-1]
        if delivery.kind != "Notification":
            url = self.urls.subscribe(sub.topic_arn, sub.token)
            text = f"{delivery.message}\nSubscribeURL: {url}"
        elif kind == Kind.EMAIL_JSON:
            text = envelope.as_text(self._document(delivery, sub))
        else:
            text = delivery.message
        line = json.dumps({"protocol": kind.value, "endpoint": sub.endpoint,
                           "type": delivery.kind, "messageId": delivery.message_id,
                           "subject": delivery.subject, "message": text})  # fmt: skip
        self.logs.put_events(sub.account_id, sub.region, LOG_GROUP.format(topic=topic_name),
                             stream_name(kind, sub.endpoint),
                             [(int(self.clock.now() * 1000), line)], True)  # fmt: skip
        return Outcome(True)
