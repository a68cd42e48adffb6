"""Timestamps as AWS writes them in events and documents: ISO 8601 in UTC."""

from __future__ import annotations

import datetime as dt
from typing import Literal

Precision = Literal["s", "ms", "us"]


def iso(seconds: float, precision: Precision = "ms", zone: str = "Z") -> str:
    """`2024-05-01T12:00:00.123Z` for epoch `seconds`: to the second, millisecond or
    microsecond, with `zone` as the UTC suffix (`Z`, or `+0000` as CloudWatch writes it)."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if precision == "ms":
        text += f".{moment.microsecond // 1000:03d}"
    elif precision == "us":
        text += f".{moment.microsecond:06d}"
    return text + zone
