"""The SNS service: topics, subscriptions, publishing and the delivery queue.

`Sns(store, clock, urls)`; call `load()` once, `start()` on the event loop. The composition
root sets `deliveries.queues` (a QueueSender), `deliveries.functions` (a FunctionInvoker) and
`deliveries.logs` (CloudWatch Logs) for those subscribers; `publisher` is the
`TopicPublisher` port."""

from __future__ import annotations

from dockyard.core.clock import Clock
from dockyard.services.sns import signing
from dockyard.services.sns.delivery import Deliveries
from dockyard.services.sns.envelope import Urls
from dockyard.services.sns.model import CONFIRMED_BY_ENDPOINT, Protocol, Subscription
from dockyard.services.sns.publishing import Publisher, ServedTopics
from dockyard.services.sns.topics import Topics
from dockyard.store.base import Store


class Sns:
    def __init__(self, store: Store, clock: Clock, urls: Urls) -> None:
        self.store = store
        self.clock = clock
        self.urls = urls
        self.topics = Topics(store, clock)
        self.deliveries = Deliveries(store, clock, self.topics, urls)
        self.publishing = Publisher(self.topics, self.deliveries, clock)
        self.publisher = ServedTopics(self.publishing)

    def load(self) -> None:
        self.topics.load()
        self.deliveries.load()
        self.deliveries.signer = signing.load_or_create(self.store, self.clock.now())

    def reset(self) -> None:
        self.topics.reset()
        self.deliveries.reset()
        self.deliveries.signer = signing.load_or_create(self.store, self.clock.now())

    def start(self) -> None:
        self.deliveries.start()

    async def stop(self) -> None:
        await self.deliveries.stop()

    def ask_to_confirm(self, sub: Subscription) -> None:
        if Protocol(sub.protocol) in CONFIRMED_BY_ENDPOINT and not sub.confirmed:
            self.publishing.confirmation(sub)
