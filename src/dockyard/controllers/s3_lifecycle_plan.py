"""What S3 lifecycle rules expire now (pure): current versions after `Days` (or from a
`Date`), noncurrent versions `NoncurrentDays` after they stopped being current, delete
markers left alone with no versions under them, and multipart uploads not completed
`DaysAfterInitiation` days after they began.

As S3 does, an age of N days is counted from the object's time, rounded up to the next
midnight UTC: an object written at 15:00 with `Days: 1` expires at midnight after next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Version:
    key: str
    version_id: str
    last_modified: float
    size: int
    tags: Mapping[str, str]
    is_latest: bool
    delete_marker: bool
    noncurrent_since: float | None  # when a newer version replaced it
    only_version: bool = False  # a delete marker with nothing under it


@dataclass(frozen=True, slots=True)
class PendingUpload:
    upload_id: str
    key: str
    initiated: float


@dataclass(slots=True)
class BucketPlan:
    expire: list[str] = field(default_factory=list)  # keys: their current version goes
    delete_versions: list[tuple[str, str]] = field(default_factory=list)  # (key, version)
    abort: list[str] = field(default_factory=list)  # upload ids


def due(since: float, days: float) -> float:
    """The time an age of `days` days is reached: `since` + days, up to the next midnight."""
    return math.ceil((since + days * DAY) / DAY) * DAY


def _applies(rule: Mapping[str, Any], key: str, size: int, tags: Mapping[str, str]) -> bool:
    if rule.get("Status") != "Enabled":
        return False
    if "Prefix" in rule and not key.startswith(rule["Prefix"] or ""):
        return False
    flt = rule.get("Filter") or {}
    conditions = flt.get("And") or flt
    if not key.startswith(conditions.get("Prefix") or ""):
        return False
    wanted = list(conditions.get("Tags") or [])
    if "Tag" in conditions:
        wanted.append(conditions["Tag"])
    if any(tags.get(t["Key"]) != t["Value"] for t in wanted):
        return False
    if "ObjectSizeGreaterThan" in conditions and not size > conditions["ObjectSizeGreaterThan"]:
        return False
    return not ("ObjectSizeLessThan" in conditions and not size < conditions["ObjectSizeLessThan"])


def plan(
    rules: Sequence[Mapping[str, Any]],
    versions: list[Version],
    uploads: list[PendingUpload],
    now: float,
) -> BucketPlan:
    decided = BucketPlan()
    for v in versions:
        for rule in rules:
            if not _applies(rule, v.key, v.size, v.tags):
                continue
            expiration = rule.get("Expiration") or {}
            if v.is_latest and not v.delete_marker:
                if "Days" in expiration and now >= due(v.last_modified, expiration["Days"]):
                    decided.expire.append(v.key)
                    break
                if "Date" in expiration and now >= float(expiration["Date"]):
                    decided.expire.append(v.key)
                    break
            elif v.is_latest and v.delete_marker:
                if expiration.get("ExpiredObjectDeleteMarker") and v.only_version:
                    decided.delete_versions.append((v.key, v.version_id))
                    break
            elif v.noncurrent_since is not None:
                noncurrent = rule.get("NoncurrentVersionExpiration") or {}
                days = noncurrent.get("NoncurrentDays")
                if days is not None and now >= due(v.noncurrent_since, days):
                    decided.delete_versions.append((v.key, v.version_id))
                    break
    for upload in uploads:
        for rule in rules:
            abort = rule.get("AbortIncompleteMultipartUpload") or {}
            days = abort.get("DaysAfterInitiation")
            if days is None or not _applies(rule, upload.key, 0, {}):
                continue
            if now >= due(upload.initiated, days):
                decided.abort.append(upload.upload_id)
                break
    return decided
