"""SQS: queues and their messages (store kinds `sqs.queue`, `sqs.message`, `sqs.dedup`).

`Sqs(store, clock)`; call `load()` once at start."""

from __future__ import annotations

from dockyard.core.clock import Clock
from dockyard.services.sqs.messages import Messages
from dockyard.services.sqs.moves import Moves
from dockyard.services.sqs.queues import Queues
from dockyard.store.base import Store


class Sqs:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.queues = Queues(store, clock)
        self.messages = Messages(store, clock, self.queues)
        self.moves = Moves(clock, self.queues, self.messages)

    def load(self) -> None:
        self.queues.load()
        self.messages.load()

    def reset(self) -> None:
        self.moves.reset()
        self.queues.reset()
