"""S3, put together: its state, buckets, objects and multipart uploads."""

from __future__ import annotations

from pathlib import Path

from dockyard.core.clock import Clock
from dockyard.core.eventbus import EventSink, Mailbox
from dockyard.services.s3.blobs import Blobs
from dockyard.services.s3.buckets import Buckets
from dockyard.services.s3.cors import Cors
from dockyard.services.s3.multipart import Multipart
from dockyard.services.s3.objects import Objects
from dockyard.services.s3.state import S3State
from dockyard.store.base import Store


class S3:
    def __init__(
        self, store: Store, clock: Clock, root: Path, events: EventSink | None = None
    ) -> None:
        self.blobs = Blobs(root)
        self.state = S3State(store, clock, self.blobs, events)
        self.buckets = Buckets(self.state)
        self.objects = Objects(self.state)
        self.multipart = Multipart(self.state, self.objects)
        self.cors = Cors(self.state)

    def send_events_to(self, events: EventSink) -> None:
        """Where object events go (EventBridge, built after the services it watches)."""
        self.state.outbox = Mailbox("s3-events", events.emit)

    def load(self) -> None:
        self.state.load()

    def reset(self) -> None:
        self.state.reset()
        self.blobs.sweep(set())

    def start(self) -> None:
        if self.state.outbox is not None:
            self.state.outbox.start()

    async def stop(self) -> None:
        if self.state.outbox is not None:
            await self.state.outbox.stop()
        self.blobs.close()
