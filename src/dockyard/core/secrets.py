"""Where ECS gets the values of a container definition's `secrets`.

A `secrets` entry names its source in `valueFrom`:
- an SSM parameter: its name (`db-password`, `/prod/db/password`) or its ARN
  (`arn:aws:ssm:REGION:ACCOUNT:parameter/prod/db/password`);
- a Secrets Manager secret: its ARN, optionally followed by
  `:json-key:version-stage:version-id` (each part may be empty), as ECS documents.

`parse_value_from` turns a `valueFrom` into a reference; a `SecretSource` (wired by the
server: SSM Parameter Store and Secrets Manager) answers its value or raises
`SecretUnavailable`, whose message says why in the words the agent would report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SecretUnavailable(Exception):
    """A secret cannot be read. `store` is "ssm" or "asm"; `reference` the valueFrom."""

    def __init__(self, store: str, reference: str, message: str) -> None:
        super().__init__(message)
        self.store = store
        self.reference = reference
        self.message = message


@dataclass(frozen=True, slots=True)
class ParameterRef:
    """An SSM parameter: its name as Parameter Store keys it, in an account and region
    (None: the task's own)."""

    name: str
    account_id: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A Secrets Manager secret (its ARN, without the ECS suffix) and what to take of it."""

    secret_id: str
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None


def parse_value_from(value: str) -> ParameterRef | SecretRef:
    """The reference a `valueFrom` names. ValueError when it names neither kind of store."""
    if not value:
        raise ValueError("valueFrom is empty")
    if not value.startswith("arn:"):
        return ParameterRef(value)
    parts = value.split(":")
    if len(parts) < 6 or not parts[2]:
        raise ValueError(f"{value} is not a valid ARN")
    service, region, account = parts[2], parts[3], parts[4]
    if service == "ssm":
        resource = ":".join(parts[5:])
        if not resource.startswith("parameter/") or resource == "parameter/":
            raise ValueError(f"{value} is not an SSM parameter ARN")
        name = resource.removeprefix("parameter")
        # `parameter/name` is the plain name `name`; `parameter/a/b` the path `/a/b`.
        name = name[1:] if name.count("/") == 1 else name
        return ParameterRef(name, account or None, region or None)
    if service == "secretsmanager":
        # arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[:json-key[:stage[:id]]]
        if len(parts) < 7 or parts[5] != "secret" or not parts[6]:
            raise ValueError(f"{value} is not a Secrets Manager secret ARN")
        if len(parts) > 10:
            raise ValueError(
                f"{value}: expected arn:...:secret:NAME:json-key:version-stage:version-id"
            )
        extra = [*parts[7:], "", "", ""][:3]
        return SecretRef(
            secret_id=":".join(parts[:7]),
            json_key=extra[0] or None,
            version_stage=extra[1] or None,
            version_id=extra[2] or None,
        )
    raise ValueError(f"{value} is neither an SSM parameter nor a Secrets Manager secret")


def store_of(value: str) -> str:
    """ "asm" for a Secrets Manager reference, "ssm" otherwise (as ECS's requiresAttributes)."""
    asm = value.startswith("arn:") and value.split(":")[2:3] == ["secretsmanager"]
    return "asm" if asm else "ssm"


class SecretSource(Protocol):
    def resolve(
        self,
        account_id: str,
        region: str,
        value_from: str,
        *,
        role: tuple[str, str] | None = None,
    ) -> str:
        """The value `value_from` names, read for a task of `account_id` in `region`; as
        `role` (the task's execution role ARN and session name), whose policies must allow
        it where policies are enforced. Raises SecretUnavailable."""
        ...
