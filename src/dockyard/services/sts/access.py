"""What STS operations act on (Service Authorization Reference: AssumeRole on the role;
GetCallerIdentity needs no permission; the others on `*`)."""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.api.access import Access, AccessRequest

# Operations whose handler authorizes the caller itself (AssumeRole weighs the role's trust
# policy with the caller's policies); GetCallerIdentity and GetSessionToken need no
# permission (AWS: "No permissions are required").
SELF_AUTHORIZED = frozenset({"GetCallerIdentity", "AssumeRole", "GetSessionToken"})


def access(req: AccessRequest) -> Sequence[Access]:
    return [Access(f"sts:{req.operation}", "*")]
