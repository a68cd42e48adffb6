"""Observe and react, wired together: CloudWatch, EventBridge and Application Auto Scaling,
their controllers (alarms, scaling, schedules), and the ports that join them to ECS and
CloudWatch Logs. The server builds one `Monitoring` and adds its providers."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dockyard.api.provider import Provider
from dockyard.controllers.alarms import AlarmController
from dockyard.core.clock import Clock
from dockyard.services import cloudwatch as cloudwatch_service
from dockyard.services.ecs.service import Ecs
from dockyard.services.logs.service import Logs
from dockyard.store.base import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class MonitoringOptions:
    account_id: str = "000000000000"
    region: str = "us-east-1"


class Monitoring:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        ecs: Ecs | None = None,
        logs: Logs | None = None,
        options: MonitoringOptions | None = None,
    ) -> None:
        self.options = options or MonitoringOptions()
        self.clock = clock
        self.ecs = ecs
        self.logs = logs
        self.cloudwatch = cloudwatch_service.CloudWatch(store, clock)
        self.cloudwatch.load()
        self.alarms = AlarmController(self.cloudwatch, clock)

    def providers(self) -> list[Provider]:
        return [cloudwatch_service.provider(self.cloudwatch)]

    async def start(self) -> None:
        self.alarms.start()

    async def stop(self) -> None:
        await self.alarms.stop()
