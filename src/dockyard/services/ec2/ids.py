"""EC2 resource ids: a prefix and 17 hex digits (`vpc-0a1b2c3d4e5f60718`)."""

from __future__ import annotations

import secrets

# The id prefix of each resource type, as `resource-type` filters and TagSpecifications name
# them.
PREFIXES = {
    "vpc": "vpc",
    "subnet": "subnet",
    "security-group": "sg",
    "security-group-rule": "sgr",
    "route-table": "rtb",
    "internet-gateway": "igw",
    "network-acl": "acl",
    "launch-template": "lt",
    "instance": "i",
}
TYPES = {prefix: kind for kind, prefix in PREFIXES.items()}


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def type_of(resource_id: str) -> str | None:
    """The resource type an id names (`sg-1` -> `security-group`); None when unknown."""
    prefix, sep, _ = resource_id.partition("-")
    return TYPES.get(prefix) if sep else None
