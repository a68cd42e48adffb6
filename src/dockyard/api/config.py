"""How the front door is set up."""

from __future__ import annotations

from dataclasses import dataclass, field

import dockyard


@dataclass(slots=True)
class FrontDoorConfig:
    default_account_id: str = "000000000000"
    default_region: str = "us-east-1"
    allow_reset: bool = False
    # access key id -> secret access key; None accepts any (or no) credentials.
    credentials: dict[str, str] | None = None
    version: str = dockyard.__version__
    # Extra botocore-layout model folders (<service>/<api-version>/service-2.json).
    model_paths: tuple[str, ...] = field(default_factory=tuple)
