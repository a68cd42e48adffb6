"""Asynchronous invocation settings (Put/Update/Get/Delete/ListFunctionEventInvokeConfig):
retries (0-2), the maximum event age (60 s - 6 h) and the OnSuccess / OnFailure
destinations, per version or alias (`$LATEST` for the unqualified function)."""

from __future__ import annotations

from typing import Any

from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.awslambda.destinations import Destinations
from dockyard.services.awslambda.errors import ResourceNotFoundException
from dockyard.services.awslambda.functions import Functions
from dockyard.services.awslambda.model import LATEST, Function, function_arn


class EventConfigs:
    def __init__(self, functions: Functions, destinations: Destinations, clock: Clock) -> None:
        self.functions = functions
        self.destinations = destinations
        self.clock = clock

    def _target(self, scope: Scope, name: str, qualifier: str | None) -> tuple[Function, str]:
        fn, qualifier = self.functions.resolve(scope, name, qualifier)
        key = qualifier or LATEST
        if key != LATEST:
            self.functions.config_of(fn, key)  # the version or alias exists
        return fn, key

    def put(
        self, scope: Scope, name: str, qualifier: str | None, settings: dict[str, Any],
        merge: bool,
    ) -> tuple[Function, str, dict[str, Any]]:  # fmt: skip
        fn, key = self._target(scope, name, qualifier)
        current = fn.event_configs.get(key)
        if merge and current is None:
            raise ResourceNotFoundException(
                f"The function {function_arn(fn.account_id, fn.region, fn.name, key)} doesn't "
                "have an EventInvokeConfig"
            )
        for side in ("OnSuccess", "OnFailure"):
            target = ((settings.get("DestinationConfig") or {}).get(side) or {}).get("Destination")
            if target:
                self.destinations.check(scope, target)
        config = {**(current or {}), **settings} if merge else dict(settings)
        config["LastModified"] = self.clock.now()
        new = Function.from_record(fn.to_record())
        new.event_configs[key] = config
        self.functions.commit(new)
        return new, key, config

    def get(
        self, scope: Scope, name: str, qualifier: str | None
    ) -> tuple[Function, str, dict[str, Any]]:
        fn, key = self._target(scope, name, qualifier)
        config = fn.event_configs.get(key)
        if config is None:
            raise ResourceNotFoundException(
                f"The function {function_arn(fn.account_id, fn.region, fn.name, key)} doesn't "
                "have an EventInvokeConfig"
            )
        return fn, key, config

    def delete(self, scope: Scope, name: str, qualifier: str | None) -> None:
        fn, key, _ = self.get(scope, name, qualifier)
        new = Function.from_record(fn.to_record())
        del new.event_configs[key]
        self.functions.commit(new)


def to_wire(fn: Function, key: str, config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "FunctionArn": function_arn(fn.account_id, fn.region, fn.name, key),
        "LastModified": config["LastModified"],
        "DestinationConfig": {
            "OnSuccess": (config.get("DestinationConfig") or {}).get("OnSuccess") or {},
            "OnFailure": (config.get("DestinationConfig") or {}).get("OnFailure") or {},
        },
    }
    for member in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if member in config:
            out[member] = config[member]
    return out
