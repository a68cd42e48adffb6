"""Observe and react, wired together: CloudWatch, EventBridge and Application Auto Scaling,
their controllers (alarms, scaling, schedules), and the ports that join them to ECS and
CloudWatch Logs. The server builds one `Monitoring` and adds its providers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dockyard.api.provider import Provider
from dockyard.controllers.alarms import AlarmController
from dockyard.controllers.deployment_alarms import DeploymentAlarmController
from dockyard.controllers.ecs_metrics import EcsServiceMetrics
from dockyard.controllers.scaling import ScheduledScalingController
from dockyard.controllers.schedules import ScheduleController
from dockyard.core.clock import Clock
from dockyard.core.scaling import AlarmActions
from dockyard.services import autoscaling as autoscaling_service
from dockyard.services import cloudwatch as cloudwatch_service
from dockyard.services import events as events_service
from dockyard.services.ecs.service import Ecs
from dockyard.services.logs.service import Logs
from dockyard.store.base import Store
from dockyard.wiring.ecs_ports import EcsScalableTargets, EcsTaskLauncher

log = logging.getLogger(__name__)


@dataclass(slots=True)
class MonitoringOptions:
    account_id: str = "000000000000"
    region: str = "us-east-1"
    # Where metric data is written through to and reloaded from (None: memory only).
    samples_path: str | None = None


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
        self.cloudwatch = cloudwatch_service.CloudWatch(
            store, clock, self.options.samples_path, action_prefixes=("arn:aws:autoscaling:",)
        )
        self.cloudwatch.load()
        self.events = events_service.Events(
            store, clock, logs=logs, tasks=EcsTaskLauncher(ecs) if ecs is not None else None
        )
        self.events.load()
        self.autoscaling = autoscaling_service.AutoScaling(
            store,
            clock,
            scalable=EcsScalableTargets(ecs) if ecs is not None else None,
            alarms=self.cloudwatch,
        )
        self.autoscaling.load()
        self.alarms = AlarmController(
            self.cloudwatch, clock, actions=[self.autoscaling], events=self.events
        )
        self.scheduled_scaling = ScheduledScalingController(self.autoscaling, clock)
        self.schedules = ScheduleController(self.events, clock)
        # AWS/ECS CPUUtilization and MemoryUtilization from the agents' container stats.
        self.ecs_metrics = (
            EcsServiceMetrics(ecs, self.cloudwatch, clock) if ecs is not None else None
        )
        # ECS deployments fail (and roll back) on their deploymentConfiguration.alarms.
        self.deployment_alarms = (
            DeploymentAlarmController(ecs, self.cloudwatch, clock) if ecs is not None else None
        )
        self._unsubscribe: list[Callable[[], None]] = []

    def scale_groups_with(self, actions: AlarmActions) -> None:
        """Alarm actions that come before Application Auto Scaling's: EC2 Auto Scaling's
        policies (whose ARNs Application Auto Scaling would otherwise claim)."""
        self.alarms.actions.insert(0, actions)

    def providers(self) -> list[Provider]:
        return [
            cloudwatch_service.provider(self.cloudwatch),
            events_service.provider(self.events),
            autoscaling_service.provider(self.autoscaling),
        ]

    def _ecs_event(self, event: dict[str, Any]) -> None:
        self.events.emit(event)

    async def start(self) -> None:
        if self.ecs is not None:
            # ECS events reach EventBridge from a queue of their own (never inside the ECS
            # operation that caused them); rules' targets are delivered from another.
            self._unsubscribe.append(self.ecs.events.subscribe(self._ecs_event, "eventbridge"))
        self.events.outbox.start()
        self.alarms.start()
        self.schedules.start()
        self.scheduled_scaling.start()
        if self.ecs_metrics is not None:
            self.ecs_metrics.start()
        if self.deployment_alarms is not None:
            self.deployment_alarms.start()

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self.ecs_metrics is not None:
            await self.ecs_metrics.stop()
        if self.deployment_alarms is not None:
            await self.deployment_alarms.stop()
        await self.scheduled_scaling.stop()
        await self.schedules.stop()
        await self.alarms.stop()
        await self.events.outbox.stop()  # deliveries still queued are let go
