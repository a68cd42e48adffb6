"""An account and region: each has its own state in every service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scope:
    account_id: str
    region: str

    def key(self, *parts: str) -> str:
        """A store key under this account and region: `account/region/part/...`."""
        return "/".join((self.account_id, self.region, *parts))
