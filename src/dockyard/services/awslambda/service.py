"""AWS Lambda: functions, versions, aliases and policies (the domain), their execution
environments (`Pool`) and invocations (`Invoker`, also the `core.functions.FunctionInvoker`).

`Lambda(store, clock, data_dir, logs=..., objects=..., roles=...)`; `load()` once, then
`await start()` on the server's loop (the Runtime API listener, the reaper, queued events)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from dockyard.core.clock import Clock
from dockyard.core.envfiles import ObjectSource
from dockyard.core.eventbus import EventSink
from dockyard.core.queues import QueueConsumer, QueueSender
from dockyard.core.rolecredentials import RoleCredentialIssuer, RolePermissions, RoleUnavailable
from dockyard.core.topics import TopicPublisher
from dockyard.services.awslambda.aliases import Aliases
from dockyard.services.awslambda.code import CodeStore
from dockyard.services.awslambda.errors import InvalidParameterValueException
from dockyard.services.awslambda.eventconfigs import EventConfigs
from dockyard.services.awslambda.functions import Functions
from dockyard.services.awslambda.invoke import Invoker
from dockyard.services.awslambda.mappings import Mappings
from dockyard.services.awslambda.permissions import Permissions
from dockyard.services.awslambda.pool import LAMBDA_PRINCIPAL, Pool
from dockyard.services.awslambda.urls import FunctionUrls
from dockyard.store.base import Store


class LogSink(Protocol):
    """CloudWatch Logs (the Logs service has this method)."""

    def put_events(self, account_id: str, region: str, group: str, stream: str,
                   events: list[tuple[int, str]], create_group: bool) -> None: ...  # fmt: skip


class Lambda:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        data_dir: Path,
        *,
        logs: LogSink | None = None,
        objects: ObjectSource | None = None,
        roles: RoleCredentialIssuer | None = None,
        queues: QueueConsumer | None = None,
        senders: QueueSender | None = None,
        topics: TopicPublisher | None = None,
        events: EventSink | None = None,
        role_permissions: RolePermissions | None = None,
        endpoint_url: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.store = store
        self.logs = logs
        self.roles = roles
        self.code = CodeStore(data_dir / "code")
        self.functions = Functions(
            store, clock, self.code, objects, self._check_role if roles is not None else None
        )
        self.aliases = Aliases(self.functions, seed)
        self.permissions = Permissions(self.functions)
        self.pool = Pool(data_dir / "environments", self._write_logs, credentials=roles,
                         endpoint_url=endpoint_url)  # fmt: skip
        self.invoker = Invoker(store, clock, self.functions, self.aliases, self.code, self.pool)
        self.functions.changed.append(self.pool.retire)
        # SQS event source mappings (`queues`: the SQS service's consumer port, once served).
        self.mappings = Mappings(store, clock, self.functions, self.invoker, queues)
        # Where asynchronous invocations report (the other services' ports, once served).
        self.destinations = self.invoker.destinations
        self.destinations.queues, self.destinations.topics = senders, topics
        self.destinations.events = events
        self.destinations.permissions = role_permissions  # records go as the execution role
        self.mappings.permissions = role_permissions  # queues are read as the execution role
        self.event_configs = EventConfigs(self.functions, self.destinations, clock)
        self.urls = FunctionUrls(self.functions, clock, endpoint_url)

    def _check_role(self, account_id: str, role_arn: str) -> None:
        assert self.roles is not None
        try:
            self.roles.issue(account_id, role_arn, "lambda-check", service=LAMBDA_PRINCIPAL)
        except RoleUnavailable as exc:
            raise InvalidParameterValueException(
                "The role defined for the function cannot be assumed by Lambda."
            ) from exc

    def _write_logs(
        self, account_id: str, region: str, group: str, stream: str,
        events: list[tuple[int, str]],
    ) -> None:  # fmt: skip
        if self.logs is not None:  # Lambda creates the function's log group
            self.logs.put_events(account_id, region, group, stream, events, True)

    def load(self) -> None:
        self.functions.load()
        self.mappings.load()

    def reset(self) -> None:
        for arn in list(self.pool.environments):
            self.pool.retire(arn)
        self.functions.reset()
        self.mappings.mappings.clear()

    async def start(self) -> None:
        await self.pool.start()
        self.invoker.load()
        self.mappings.start()

    async def stop(self) -> None:
        self.invoker.stop()
        await self.mappings.stop()
        await self.pool.stop()
