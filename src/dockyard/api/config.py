"""How the front door is set up."""

from __future__ import annotations

from dataclasses import dataclass, field

import dockyard
from dockyard.api.limits import MAX_BODY_BYTES
from dockyard.core.principals import KeyDirectory, PolicySource


@dataclass(slots=True)
class FrontDoorConfig:
    default_account_id: str = "000000000000"
    default_region: str = "us-east-1"
    allow_reset: bool = False
    # access key id -> secret access key; None accepts any (or no) credentials.
    credentials: dict[str, str] | None = None
    # access key id -> the account its calls act in (auth-file lines with a third column).
    accounts: dict[str, str] = field(default_factory=dict)
    # Every key that may sign (auth-file roots, IAM access keys, STS credentials); None: the
    # auth-file keys alone.
    keys: KeyDirectory | None = None
    # Identity-based policies (IAM); with `credentials` set, every request is authorized.
    policies: PolicySource | None = None
    # Request bodies (as sent, and after gzip is undone) larger than this answer 413.
    max_body_bytes: int = MAX_BODY_BYTES
    version: str = dockyard.__version__
    # Extra botocore-layout model folders (<service>/<api-version>/service-2.json).
    model_paths: tuple[str, ...] = field(default_factory=tuple)
