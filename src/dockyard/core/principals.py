"""Who signs a request: the key directory port between the front door and IAM/STS.

The front door authenticates a SigV4 request with the secret of its access key and then
authorizes it as that key's principal. Keys come from several places (the auth file's root
keys, IAM users' access keys, STS temporary credentials); each implements `KeyDirectory`,
and the composition root chains them. Identity-based policies come through `PolicySource`
(IAM), so the front door never imports a service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from dockyard.core.iampolicy import Policy


class PrincipalKind(StrEnum):
    ROOT = "Account"  # the values of aws:PrincipalType
    USER = "User"
    ASSUMED_ROLE = "AssumedRole"


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: str
    kind: PrincipalKind
    # arn:aws:iam::<acct>:root, ...:user/<path><name>, or
    # arn:aws:sts::<acct>:assumed-role/<role>/<session>
    arn: str
    user_id: str  # GetCallerIdentity's UserId: the account, AIDA..., or AROA...:<session>
    name: str = ""  # the user's or the role's name
    role_arn: str = ""  # an assumed role's IAM ARN
    session_name: str = ""
    access_key_id: str = ""
    # The session policy of an assumed role or federated session (its JSON), if any.
    session_policy: str | None = None

    @property
    def is_root(self) -> bool:
        return self.kind is PrincipalKind.ROOT


def root_principal(account_id: str, access_key_id: str = "") -> Principal:
    return Principal(
        account_id=account_id,
        kind=PrincipalKind.ROOT,
        arn=f"arn:aws:iam::{account_id}:root",
        user_id=account_id,
        access_key_id=access_key_id,
    )


@dataclass(frozen=True, slots=True)
class SigningKey:
    secret: str
    principal: Principal
    expiration: float | None = None  # temporary credentials: epoch seconds


class KeyRejected(Exception):
    """A key that exists but cannot sign now: `expired`, or `invalid` (the session token is
    missing, forged or not this key's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyDirectory(Protocol):
    def signing_key(
        self, access_key_id: str, session_token: str | None, now: float
    ) -> SigningKey | None:
        """The key's secret and principal; None if this directory does not know the key.
        Raises `KeyRejected` for a known key that cannot sign now."""
        ...


@dataclass(frozen=True, slots=True)
class Permissions:
    """What IAM holds for a principal: its identity-based policies, the policies that limit
    them (a permissions boundary, a session policy), and its tags (aws:PrincipalTag/*)."""

    policies: Sequence[Policy] = ()
    boundary: Sequence[Policy] | None = None
    session: Sequence[Policy] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class PolicySource(Protocol):
    def permissions(self, principal: Principal) -> Permissions:
        """The principal's policies now (a deleted user or role has none)."""
        ...


class StaticKeys:
    """The auth file's keys: each is the root of its account (the third column, else the
    key itself when it is 12 digits, else the server's default account)."""

    def __init__(self, secrets: Mapping[str, str], accounts: Mapping[str, str], default: str):
        self.secrets = dict(secrets)
        self.accounts = dict(accounts)
        self.default = default

    def signing_key(
        self, access_key_id: str, session_token: str | None, now: float
    ) -> SigningKey | None:
        secret = self.secrets.get(access_key_id)
        if secret is None:
            return None
        account = self.accounts.get(access_key_id)
        if account is None:
            # A 12-digit key id is its own account (as `api.auth.identify` has it).
            digits = len(access_key_id) == 12 and access_key_id.isdigit()
            account = access_key_id if digits else self.default
        return SigningKey(secret, root_principal(account, access_key_id))


class KeyChain:
    """Directories asked in turn; the first that knows a key answers."""

    def __init__(self, *directories: KeyDirectory) -> None:
        self.directories = list(directories)

    def add(self, directory: KeyDirectory) -> None:
        self.directories.append(directory)

    def signing_key(
        self, access_key_id: str, session_token: str | None, now: float
    ) -> SigningKey | None:
        for directory in self.directories:
            found = directory.signing_key(access_key_id, session_token, now)
            if found is not None:
                return found
        return None


@dataclass(frozen=True, slots=True)
class RoleInfo:
    """What STS needs of an IAM role to issue its credentials."""

    account_id: str
    arn: str
    role_id: str  # AROA...
    name: str
    trust_policy: Policy
    max_session_duration: int = 3600


class RoleDirectory(Protocol):
    def role(self, account_id: str, role_arn: str) -> RoleInfo | None:
        """The role `role_arn` if it exists in `account_id`."""
        ...
