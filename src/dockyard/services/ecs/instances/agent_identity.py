"""Who a remote agent is: join tokens, and the credential each joined instance gets.

An operator issues a join token for one cluster of one account (`dockyard join-token`); an
agent registers with it and receives its own credential, a random secret bound to its
container instance ARN. Every later call of that agent carries the credential and may only
touch that instance. Both secrets are kept hashed (SHA-256: they are random, 256 bits), in the
store, so they survive a restart; tokens expire and can be revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.store.base import Store

log = logging.getLogger(__name__)

TOKEN_KIND = "ecs.join-token"
CREDENTIAL_KIND = "ecs.agent-credential"
DEFAULT_TOKEN_TTL = 24 * 3600.0  # seconds
MAX_TOKEN_TTL = 365 * 24 * 3600.0
TOKEN_PREFIX = "dyj"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _matches(secret: str, digest: str) -> bool:
    return hmac.compare_digest(_digest(secret), digest)


@dataclass(frozen=True, slots=True)
class JoinToken:
    token_id: str
    account_id: str
    region: str
    cluster: str  # a cluster name
    created_at: float
    expires_at: float

    def to_dict(self) -> dict[str, object]:
        return {
            "tokenId": self.token_id,
            "accountId": self.account_id,
            "region": self.region,
            "cluster": self.cluster,
            "createdAt": self.created_at,
            "expiresAt": self.expires_at,
        }


@dataclass(frozen=True, slots=True)
class Issued:
    """A token as handed to the operator once: its record and its secret text."""

    token: JoinToken
    text: str


class InvalidToken(Exception):
    """The join token is unknown, revoked, expired or malformed (the message says which)."""


class AgentIdentities:
    """Join tokens and agent credentials, written through to the store."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._tokens: dict[str, tuple[JoinToken, str]] = {}  # id -> (token, digest)
        self._credentials: dict[str, str] = {}  # instance ARN -> digest of its credential
        self.load()

    def load(self) -> None:
        self._tokens.clear()
        self._credentials.clear()
        for key, value in self.store.load(TOKEN_KIND):
            token = JoinToken(
                key,
                str(value["accountId"]),
                str(value["region"]),
                str(value["cluster"]),
                float(value["createdAt"]),
                float(value["expiresAt"]),
            )
            self._tokens[key] = (token, str(value["digest"]))
        for key, value in self.store.load(CREDENTIAL_KIND):
            self._credentials[key] = str(value["digest"])

    def reset(self) -> None:
        """The store was wiped (`/_dockyard/reset`): forget everything."""
        self._tokens.clear()
        self._credentials.clear()

    # -- join tokens -------------------------------------------------------------------------

    def issue_token(
        self, account_id: str, region: str, cluster: str, ttl: float = DEFAULT_TOKEN_TTL
    ) -> Issued:
        now = self.clock.now()
        token = JoinToken(secrets.token_hex(8), account_id, region, cluster, now, now + ttl)
        secret = secrets.token_urlsafe(32)
        digest = _digest(secret)
        self.store.put(TOKEN_KIND, token.token_id, {**token.to_dict(), "digest": digest})
        self._tokens[token.token_id] = (token, digest)
        log.info(
            "join token %s issued for cluster %s of account %s, valid until %.0f",
            token.token_id, cluster, account_id, token.expires_at,
        )  # fmt: skip
        return Issued(token, f"{TOKEN_PREFIX}.{token.token_id}.{secret}")

    def tokens(self, account_id: str) -> list[JoinToken]:
        """The account's tokens not yet expired."""
        now = self.clock.now()
        found = [t for t, _ in self._tokens.values() if t.account_id == account_id]
        return sorted((t for t in found if t.expires_at > now), key=lambda t: t.created_at)

    def revoke_token(self, account_id: str, token_id: str) -> bool:
        found = self._tokens.get(token_id)
        if found is None or found[0].account_id != account_id:
            return False
        self.store.delete(TOKEN_KIND, token_id)
        del self._tokens[token_id]
        log.info("join token %s revoked", token_id)
        return True

    def check_token(self, text: str) -> JoinToken:
        prefix, _, rest = text.strip().partition(".")
        token_id, _, secret = rest.partition(".")
        if prefix != TOKEN_PREFIX or not token_id or not secret:
            raise InvalidToken("the join token is malformed (expected dyj.<id>.<secret>)")
        found = self._tokens.get(token_id)
        if found is None or not _matches(secret, found[1]):
            raise InvalidToken("the join token is unknown or was revoked")
        if found[0].expires_at <= self.clock.now():
            raise InvalidToken(f"the join token {token_id} has expired")
        return found[0]

    # -- agent credentials -------------------------------------------------------------------

    def has_credential(self, instance_arn: str) -> bool:
        return instance_arn in self._credentials

    def issue_credential(self, instance_arn: str) -> str:
        """A new credential for `instance_arn` (replacing any it had); its text, once."""
        secret = secrets.token_urlsafe(32)
        digest = _digest(secret)
        self.store.put(
            CREDENTIAL_KIND, instance_arn, {"digest": digest, "issuedAt": self.clock.now()}
        )
        self._credentials[instance_arn] = digest
        return secret

    def check_credential(self, instance_arn: str, secret: str) -> bool:
        digest = self._credentials.get(instance_arn)
        return digest is not None and _matches(secret, digest)
