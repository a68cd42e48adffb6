"""ARN patterns of policies: `*` and `?` within each of the first five segments (partition,
service, region, account), and across the resource part, matched in linear time."""

from __future__ import annotations

from dockyard.core.wildcard import compile_wildcard


def arn_like(actual: str, pattern: str) -> bool:
    """Whether ARN `actual` matches ARN pattern `pattern` (`Resource` entries, `ArnLike`)."""
    if pattern == "*":
        return True
    want = pattern.split(":", 5)
    have = actual.split(":", 5)
    if len(want) != 6:
        return compile_wildcard(pattern)(actual)
    if len(have) != 6:
        return False
    return all(compile_wildcard(w)(h) for w, h in zip(want, have, strict=True))


def action_like(action: str, pattern: str) -> bool:
    """Whether `service:Operation` matches an action pattern (case-insensitive, as IAM)."""
    return compile_wildcard(pattern, ignore_case=True)(action)
