"""Timestamps in the forms AWS writes them."""

from __future__ import annotations

import pytest

from dockyard.core.timefmt import iso

T = 1_714_564_800.123456  # 2024-05-01T12:00:00.123456Z


@pytest.mark.parametrize(
    ("precision", "zone", "text"),
    [
        ("s", "Z", "2024-05-01T12:00:00Z"),
        ("ms", "Z", "2024-05-01T12:00:00.123Z"),
        ("us", "Z", "2024-05-01T12:00:00.123456Z"),
        ("ms", "+0000", "2024-05-01T12:00:00.123+0000"),
    ],
)
def test_forms(precision: str, zone: str, text: str) -> None:
    assert iso(T, precision, zone) == text  # type: ignore[arg-type]


def test_whole_seconds_keep_their_zeros() -> None:
    assert iso(1_714_564_800.0) == "2024-05-01T12:00:00.000Z"
