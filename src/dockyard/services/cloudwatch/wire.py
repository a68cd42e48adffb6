"""Values as CloudWatch's wire carries them."""

from __future__ import annotations

from datetime import datetime


def seconds(value: datetime | float | int) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)
