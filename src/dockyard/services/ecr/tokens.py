"""Registry credentials: what GetAuthorizationToken hands out and the registry accepts.

A token is self-describing and sealed with an HMAC under a key derived from the server's
`store.key`, so it survives a restart and needs no record: `<payload>.<mac>`, the payload
naming the caller's account, region and access key, the principal it was issued to (a user,
a role session: the registry authorizes its requests as that principal when policies are
enforced) and when it expires (12 hours, as ECR).
`docker login -u AWS -p <token>`: the authorization token is base64 of `AWS:<token>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from dockyard.core.principals import Principal, PrincipalKind, root_principal
from dockyard.core.scope import Scope

TOKEN_TTL = 12 * 3600.0
MAX_TOKEN = 16384  # a session policy (2,048 packed characters) fits
USERNAME = "AWS"


@dataclass(slots=True, frozen=True)
class Caller:
    account_id: str
    region: str
    access_key_id: str | None
    expires_at: float
    principal: Principal | None = None  # None: the account's root

    def who(self) -> Principal:
        if self.principal is not None:
            return self.principal
        return root_principal(self.account_id, self.access_key_id or "")


def _principal_body(p: Principal) -> dict[str, Any]:
    body: dict[str, Any] = {"t": str(p.kind), "arn": p.arn, "u": p.user_id}
    for key, value in (("n", p.name), ("ra", p.role_arn), ("s", p.session_name)):
        if value:
            body[key] = value
    if p.session_policy:
        body["sp"] = p.session_policy
    return body


def _principal_of(body: Any, account_id: str, key: str | None) -> Principal | None:
    if body is None:
        return None
    return Principal(
        account_id=account_id,
        kind=PrincipalKind(body["t"]),
        arn=str(body["arn"]),
        user_id=str(body["u"]),
        name=str(body.get("n", "")),
        role_arn=str(body.get("ra", "")),
        session_name=str(body.get("s", "")),
        access_key_id=key or "",
        session_policy=body.get("sp"),
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    def __init__(self, server_key: bytes) -> None:
        self._key = hmac.new(server_key, b"dockyard ecr registry token", hashlib.sha256).digest()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(self, caller: Caller) -> str:
        body: dict[str, Any] = {
            "a": caller.account_id,
            "r": caller.region,
            "k": caller.access_key_id,
            "e": int(caller.expires_at),
        }
        if caller.principal is not None and not caller.principal.is_root:
            body["p"] = _principal_body(caller.principal)
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def authorization(self, caller: Caller) -> str:
        """The authorizationToken of GetAuthorizationToken: base64 `AWS:<token>`."""
        return base64.b64encode(f"{USERNAME}:{self.issue(caller)}".encode()).decode()

    def check(self, token: str, now: float) -> Caller | None:
        """The caller a token names, or None if it is forged, malformed or expired."""
        payload, sep, mac = token.partition(".")
        if not sep or len(token) > MAX_TOKEN or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            body = json.loads(_unb64(payload))
            account, key = str(body["a"]), body.get("k")
            who = _principal_of(body.get("p"), account, key)
            caller = Caller(account, str(body["r"]), key, float(body["e"]), who)
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            return None
        return caller if caller.expires_at > now else None


def scope_of_host(host: str) -> Scope | None:
    """The account and region of an ECR-style host, `<account>.dkr.ecr.<region>.localhost`."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    parts = name.lower().split(".")
    if len(parts) != 5 or parts[1:3] != ["dkr", "ecr"] or parts[4] != "localhost":
        return None
    if len(parts[0]) == 12 and parts[0].isdigit() and parts[3]:
        return Scope(parts[0], parts[3])
    return None
