"""Function URLs (Create/Get/Update/Delete/ListFunctionUrlConfig): a real HTTP endpoint per
function or alias, served by `urls_http.py` at `<server>/lambda-url/<url-id>/`. AuthType
NONE, as in AWS, still needs a resource policy statement granting
`lambda:InvokeFunctionUrl` to `*` (with FunctionUrlAuthType NONE)."""

from __future__ import annotations

import secrets
from typing import Any

from dockyard.core import timefmt
from dockyard.core.clock import Clock
from dockyard.core.scope import Scope
from dockyard.services.awslambda.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from dockyard.services.awslambda.functions import Functions
from dockyard.services.awslambda.model import LATEST, Function, function_arn

PREFIX = "/lambda-url/"


class FunctionUrls:
    def __init__(self, functions: Functions, clock: Clock, endpoint_url: str | None) -> None:
        self.functions = functions
        self.clock = clock
        self.endpoint_url = (endpoint_url or "http://127.0.0.1:4566").rstrip("/")

    def url(self, url_id: str) -> str:
        return f"{self.endpoint_url}{PREFIX}{url_id}/"

    def _target(self, scope: Scope, name: str, qualifier: str | None) -> tuple[Function, str]:
        fn, qualifier = self.functions.resolve(scope, name, qualifier)
        key = qualifier or LATEST
        if key != LATEST and key not in fn.aliases:
            raise InvalidParameterValueException(
                "A function URL can be attached to $LATEST or an alias only (Qualifier)."
            )
        return fn, key

    @staticmethod
    def _check(settings: dict[str, Any]) -> None:
        if settings.get("AuthType") not in (None, "NONE"):
            raise InvalidParameterValueException(
                "Dockyard serves function URLs with AuthType NONE only (AuthType)."
            )
        if settings.get("InvokeMode") not in (None, "BUFFERED"):
            raise InvalidParameterValueException(
                "Dockyard serves BUFFERED function URLs only (InvokeMode)."
            )

    def create(
        self, scope: Scope, name: str, qualifier: str | None, settings: dict[str, Any]
    ) -> tuple[Function, str, dict[str, Any]]:
        self._check(settings)
        fn, key = self._target(scope, name, qualifier)
        if key in fn.url_configs:
            raise ResourceConflictException(
                f"Failed to create function url config for [functionArn = "
                f"{function_arn(fn.account_id, fn.region, fn.name, key)}]. Error message:  "
                "FunctionUrlConfig exists for this Lambda function"
            )
        now = timefmt.iso(self.clock.now())
        config = {"url_id": secrets.token_hex(16), "AuthType": settings.get("AuthType", "NONE"),
                  "Cors": settings.get("Cors") or {}, "InvokeMode": "BUFFERED",
                  "CreationTime": now, "LastModifiedTime": now}  # fmt: skip
        new = Function.from_record(fn.to_record())
        new.url_configs[key] = config
        self.functions.commit(new)
        return new, key, config

    def get(
        self, scope: Scope, name: str, qualifier: str | None
    ) -> tuple[Function, str, dict[str, Any]]:
        fn, key = self._target(scope, name, qualifier)
        config = fn.url_configs.get(key)
        if config is None:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return fn, key, config

    def update(
        self, scope: Scope, name: str, qualifier: str | None, settings: dict[str, Any]
    ) -> tuple[Function, str, dict[str, Any]]:
        self._check(settings)
        fn, key, config = self.get(scope, name, qualifier)
        config = {**config, "LastModifiedTime": timefmt.iso(self.clock.now())}
        if "Cors" in settings:
            config["Cors"] = settings["Cors"] or {}
        new = Function.from_record(fn.to_record())
        new.url_configs[key] = config
        self.functions.commit(new)
        return new, key, config

    def delete(self, scope: Scope, name: str, qualifier: str | None) -> None:
        fn, key, _ = self.get(scope, name, qualifier)
        new = Function.from_record(fn.to_record())
        del new.url_configs[key]
        self.functions.commit(new)

    def find(self, url_id: str) -> tuple[Function, str] | None:
        """The function and qualifier a URL id names."""
        for fn in self.functions.functions.values():
            for key, config in fn.url_configs.items():
                if config["url_id"] == url_id:
                    return fn, key
        return None

    def to_wire(self, fn: Function, key: str, config: dict[str, Any]) -> dict[str, Any]:
        arn = function_arn(fn.account_id, fn.region, fn.name, None if key == LATEST else key)
        out = {
            "FunctionUrl": self.url(config["url_id"]),
            "FunctionArn": arn,
            "AuthType": config["AuthType"],
            "CreationTime": config["CreationTime"],
            "LastModifiedTime": config["LastModifiedTime"],
            "InvokeMode": config["InvokeMode"],
        }
        if config.get("Cors"):
            out["Cors"] = config["Cors"]
        return out  # fmt: skip


def url_allowed(fn: Function, key: str) -> bool:
    """Whether the resource policy lets anyone invoke the URL (AuthType NONE)."""
    for s in fn.policies.get("" if key == LATEST else key, []):
        if s.get("Effect") != "Allow" or s.get("Principal") != "*":
            continue
        if s.get("Action") not in ("lambda:InvokeFunctionUrl", "lambda:*", "*"):
            continue
        auth = s.get("Condition", {}).get("StringEquals", {}).get("lambda:FunctionUrlAuthType")
        if auth in (None, "NONE"):
            return True
    return False
