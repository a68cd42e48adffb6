"""Regions and availability zones: three zones per region (`us-east-1a`..., zone ids
`use1-az1`...), and the regions botocore knows for EC2."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import botocore.session

ZONE_LETTERS = "abc"
# How AWS shortens a region's middle word in zone ids (`ap-southeast-1` -> `apse1`).
_SHORT = {
    "east": "e",
    "west": "w",
    "north": "n",
    "south": "s",
    "central": "c",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


@dataclass(frozen=True, slots=True)
class Zone:
    name: str  # us-east-1a
    zone_id: str  # use1-az1
    region: str


def zone_prefix(region: str) -> str:
    parts = region.split("-")
    if len(parts) < 3:
        return region.replace("-", "")
    return parts[0] + "".join(_SHORT.get(p, p[:1]) for p in parts[1:-1]) + parts[-1]


def zones(region: str) -> list[Zone]:
    prefix = zone_prefix(region)
    return [
        Zone(f"{region}{letter}", f"{prefix}-az{i}", region)
        for i, letter in enumerate(ZONE_LETTERS, start=1)
    ]


def zone_named(region: str, name_or_id: str) -> Zone | None:
    """A zone of `region` by name (`us-east-1a`) or id (`use1-az1`)."""
    return next((z for z in zones(region) if name_or_id in (z.name, z.zone_id)), None)


@cache
def regions() -> tuple[str, ...]:
    """The regions of the standard partition that botocore's endpoint data names for EC2."""
    return tuple(sorted(botocore.session.get_session().get_available_regions("ec2")))


def endpoint(region: str) -> str:
    return f"ec2.{region}.amazonaws.com"
