"""AWS STS: temporary credentials (AssumeRole, GetSessionToken) and who is calling.

Credentials are session tokens sealed under the server's key (`tokens.py`), so issuing one
writes nothing and they outlive a restart until they expire. `Sts` is also a `KeyDirectory`
(the front door asks it for ASIA keys) and the `RoleCredentialIssuer` ECS uses for task roles.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dockyard.core.clock import Clock
from dockyard.core.iampolicy import PolicyError, PolicyKind, Request, evaluate, parse_policy
from dockyard.core.principals import (
    KeyRejected,
    PolicySource,
    Principal,
    PrincipalKind,
    RoleDirectory,
    RoleInfo,
    SigningKey,
)
from dockyard.core.rolecredentials import RoleUnavailable, TemporaryCredentials
from dockyard.services.sts.errors import AccessDenied, MalformedPolicyDocument, ValidationError
from dockyard.services.sts.tokens import TokenSealer

MIN_DURATION = 900
SESSION_TOKEN_MAX = 129_600  # GetSessionToken for a user: 36 hours
ROOT_SESSION_MAX = 3600
SESSION_POLICY_MAX = 2048
CHAINED_MAX = 3600  # a role assumed with another role's credentials: at most an hour
SESSION_NAME = re.compile(r"[\w+=,.@-]*")
KEY_ALPHABET = string.ascii_uppercase + "234567"


def new_key_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(KEY_ALPHABET) for _ in range(16))


def new_secret() -> str:
    return secrets.token_urlsafe(30)[:40]


@dataclass(frozen=True, slots=True)
class Issued:
    credentials: TemporaryCredentials
    principal: Principal


class Sts:
    def __init__(
        self, clock: Clock, server_key: bytes, roles: RoleDirectory, policies: PolicySource
    ) -> None:
        self.clock = clock
        self.sealer = TokenSealer(server_key)
        self.roles = roles
        self.policies = policies

    # -- issuing -------------------------------------------------------------------------

    def _issue(self, principal: Principal, duration: int) -> Issued:
        key_id = new_key_id("ASIA")
        secret = new_secret()
        expiration = float(int(self.clock.now()) + duration)
        token = self.sealer.seal(
            {
                "k": key_id,
                "s": secret,
                "e": expiration,
                "a": principal.account_id,
                "t": str(principal.kind),
                "arn": principal.arn,
                "uid": principal.user_id,
                "n": principal.name,
                "r": principal.role_arn,
                "sn": principal.session_name,
                "sp": principal.session_policy,
            }
        )
        creds = TemporaryCredentials(
            key_id, secret, token, expiration, principal.role_arn or principal.arn
        )
        return Issued(creds, principal)

    def _role(self, account_id: str, role_arn: str) -> RoleInfo:
        role = self.roles.role(account_id, role_arn)
        if role is None:
            raise RoleUnavailable(f"Role {role_arn} does not exist")
        return role

    def _duration(self, role: RoleInfo, duration: int | None) -> int:
        value = 3600 if duration is None else duration
        if value < MIN_DURATION:
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at 'durationSeconds' failed "
                "to satisfy constraint: Member must have value greater than or equal to "
                f"{MIN_DURATION}"
            )
        if value > role.max_session_duration:
            raise ValidationError(
                f"The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                f"role. (DurationSeconds: {value}, MaxSessionDuration: "
                f"{role.max_session_duration})"
            )
        return value

    def _session_principal(
        self, role: RoleInfo, session_name: str, session_policy: str | None
    ) -> Principal:
        return Principal(
            account_id=role.account_id,
            kind=PrincipalKind.ASSUMED_ROLE,
            arn=f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{session_name}",
            user_id=f"{role.role_id}:{session_name}",
            name=role.name,
            role_arn=role.arn,
            session_name=session_name,
            session_policy=session_policy,
        )

    def assume_role(
        self,
        caller: Principal,
        role_arn: str,
        session_name: str,
        duration: int | None = None,
        policy: str | None = None,
        context: Mapping[str, Sequence[str]] | None = None,
    ) -> Issued:
        """AssumeRole: the trust policy must allow the caller; unless it names the caller
        itself, the caller's identity-based policies must allow sts:AssumeRole too (for a
        role of the same account)."""
        denied = AccessDenied(
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}"
        )
        role = self.roles.role(caller.account_id, role_arn)
        if role is None:
            raise denied
        if caller.kind is PrincipalKind.ASSUMED_ROLE and caller.role_arn == "":
            raise denied
        request = Request(
            "sts:AssumeRole",
            role.arn,
            {**(context or {}), **self._caller_keys(caller)},
            {"AWS": [caller.arn, *([caller.role_arn] if caller.role_arn else [])]},
        )
        named = evaluate(request, [], role.trust_policy)
        if not named.allowed:
            if named.denied_in:
                raise denied
            # The trust policy may name the caller's account: then IAM decides.
            whole = Request(
                request.action,
                request.resource,
                request.context,
                {"AWS": [*request.principal["AWS"], f"arn:aws:iam::{caller.account_id}:root"]},
            )
            if not evaluate(whole, [], role.trust_policy).allowed:
                raise denied
            if not caller.is_root:
                perms = self.policies.permissions(caller)
                decision = evaluate(
                    whole, perms.policies, boundary=perms.boundary, session=perms.session
                )
                if not decision.allowed:
                    raise denied
        if policy is not None:
            try:
                parse_policy(policy, PolicyKind.IDENTITY, max_size=SESSION_POLICY_MAX)
            except PolicyError as err:
                raise MalformedPolicyDocument(str(err)) from None
        if not SESSION_NAME.fullmatch(session_name):
            raise ValidationError(
                f"1 validation error detected: Value '{session_name}' at 'roleSessionName' "
                "failed to satisfy constraint: Member must satisfy regular expression "
                "pattern: [\\w+=,.@-]*"
            )
        seconds = self._duration(role, duration)
        if caller.kind is PrincipalKind.ASSUMED_ROLE and seconds > CHAINED_MAX:
            raise ValidationError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                f"assumed by role chaining. (DurationSeconds: {seconds})"
            )
        return self._issue(self._session_principal(role, session_name, policy), seconds)

    def _caller_keys(self, caller: Principal) -> dict[str, list[str]]:
        """The condition keys of the caller a trust policy may test."""
        keys = {
            "aws:principalarn": [caller.role_arn or caller.arn],
            "aws:principalaccount": [caller.account_id],
            "aws:principaltype": [str(caller.kind)],
            "aws:userid": [caller.user_id],
        }
        if caller.kind is PrincipalKind.USER:
            keys["aws:username"] = [caller.name]
        return keys

    def get_session_token(self, caller: Principal, duration: int | None) -> Issued:
        if caller.kind is PrincipalKind.ASSUMED_ROLE or caller.access_key_id.startswith("ASIA"):
            raise AccessDenied("Cannot call GetSessionToken with session credentials")
        longest = ROOT_SESSION_MAX if caller.is_root else SESSION_TOKEN_MAX
        value = (ROOT_SESSION_MAX if caller.is_root else 43_200) if duration is None else duration
        if not MIN_DURATION <= value <= longest:
            raise ValidationError(
                f"The requested DurationSeconds must be between {MIN_DURATION} and {longest} "
                f"seconds for this caller (DurationSeconds: {value})."
            )
        return self._issue(caller, value)

    # -- RoleCredentialIssuer ------------------------------------------------------------

    def issue(
        self,
        account_id: str,
        role_arn: str,
        session_name: str,
        *,
        service: str = "ecs-tasks.amazonaws.com",
    ) -> TemporaryCredentials:
        role = self._role(account_id, role_arn)
        request = Request(
            "sts:AssumeRole",
            role.arn,
            {"aws:principalservicename": [service]},
            {"Service": [service]},
        )
        if not evaluate(request, [], role.trust_policy).allowed:
            raise RoleUnavailable(
                f"The trust policy of role {role.arn} does not allow {service} to assume it"
            )
        principal = self._session_principal(role, session_name, None)
        return self._issue(principal, role.max_session_duration).credentials

    # -- KeyDirectory ----------------------------------------------------------------------

    def signing_key(
        self, access_key_id: str, session_token: str | None, now: float
    ) -> SigningKey | None:
        if not access_key_id.startswith("ASIA"):
            return None
        if not session_token:
            raise KeyRejected("invalid")
        claims = self.sealer.open(session_token)
        if claims is None or claims.get("k") != access_key_id:
            raise KeyRejected("invalid")
        expiration = float(claims["e"])
        if self.clock.now() >= expiration:
            raise KeyRejected("expired")
        principal = Principal(
            account_id=str(claims["a"]),
            kind=PrincipalKind(claims["t"]),
            arn=str(claims["arn"]),
            user_id=str(claims["uid"]),
            name=str(claims.get("n") or ""),
            role_arn=str(claims.get("r") or ""),
            session_name=str(claims.get("sn") or ""),
            access_key_id=access_key_id,
            session_policy=claims.get("sp"),
        )
        return SigningKey(str(claims["s"]), principal, expiration)
