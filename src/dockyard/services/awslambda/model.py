"""Lambda's records: a function (its `$LATEST` configuration, its published versions, its
aliases, its resource policy and reserved concurrency), stored as one `lambda.function`
record per function so that every change is one transaction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

KIND = "lambda.function"
LATEST = "$LATEST"


class State(StrEnum):
    PENDING = "Pending"
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    FAILED = "Failed"


class UpdateStatus(StrEnum):
    SUCCESSFUL = "Successful"
    FAILED = "Failed"
    IN_PROGRESS = "InProgress"


class InvocationType(StrEnum):
    REQUEST_RESPONSE = "RequestResponse"
    EVENT = "Event"
    DRY_RUN = "DryRun"


@dataclass(slots=True)
class Config:
    """One configuration of a function: `$LATEST` (changing) or a published version (frozen)."""

    version: str
    runtime: str
    handler: str
    role: str
    code_sha256: str  # base64 of the zip's SHA-256, as Lambda shows it
    code_size: int
    code_hex: str  # the zip's SHA-256 in hex: its file in the code store
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    ephemeral_storage: int = 512
    last_modified: float = 0.0
    revision_id: str = ""
    state: str = State.PENDING
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: str = UpdateStatus.SUCCESSFUL
    last_update_reason: str | None = None


@dataclass(slots=True)
class Alias:
    name: str
    arn: str
    function_version: str
    description: str = ""
    weights: dict[str, float] = field(default_factory=dict)  # AdditionalVersionWeights
    revision_id: str = ""


@dataclass(slots=True)
class Function:
    name: str
    arn: str  # unqualified
    account_id: str
    region: str
    latest: Config
    versions: dict[str, Config] = field(default_factory=dict)  # "1", "2", ...
    aliases: dict[str, Alias] = field(default_factory=dict)
    last_version: int = 0
    reserved_concurrency: int | None = None
    # Resource-based policy statements, by qualifier ("" for the unqualified function).
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # Asynchronous invocation settings (Put/UpdateFunctionEventInvokeConfig), by qualifier
    # ("$LATEST" for the unqualified function): retries, maximum age, destinations.
    event_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Function URLs, by qualifier ("$LATEST" or an alias): url id, AuthType, Cors, times.
    url_configs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def config(self, version: str) -> Config | None:
        return self.latest if version == LATEST else self.versions.get(version)

    def to_record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, body: dict[str, Any]) -> Function:
        body = dict(body)
        body["latest"] = Config(**body["latest"])
        body["versions"] = {k: Config(**v) for k, v in body.get("versions", {}).items()}
        body["aliases"] = {k: Alias(**v) for k, v in body.get("aliases", {}).items()}
        return cls(**body)


def function_arn(account_id: str, region: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base
