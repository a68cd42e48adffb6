"""SigV4: who is calling, from which region, and (when credentials are configured)
whether the signature holds."""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

from dockyard.api.http import HttpRequest
from dockyard.core.errors import ServiceError
from dockyard.core.principals import KeyDirectory, KeyRejected, SigningKey, StaticKeys

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# AWS accepts a signed request up to 15 minutes either side of its own clock.
MAX_SKEW_SECONDS = 15 * 60
# The longest a presigned URL may live (X-Amz-Expires).
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class SigV4:
    access_key_id: str
    date: str
    region: str
    service: str  # the signing name ("elasticloadbalancing", "monitoring", ...)
    signed_headers: tuple[str, ...]
    signature: str
    presigned: bool = False


@dataclass(frozen=True, slots=True)
class Identity:
    account_id: str
    region: str
    access_key_id: str | None


class AuthError(ServiceError):
    status = 403


def _parse_scope(credential: str) -> tuple[str, str, str, str] | None:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return parts[0], parts[1], parts[2], parts[3]


def parse_sigv4(req: HttpRequest) -> SigV4 | None:
    """The SigV4 fields of a request (Authorization header or presigned query), or None."""
    header = req.headers.get("authorization")
    if header is not None:
        if not header.startswith(ALGORITHM):
            return None
        fields: dict[str, str] = {}
        for item in header[len(ALGORITHM) :].split(","):
            key, _, value = item.strip().partition("=")
            fields[key] = value
        scope = _parse_scope(fields.get("Credential", ""))
        if scope is None:
            return None
        return SigV4(
            *scope,
            signed_headers=tuple(fields.get("SignedHeaders", "").split(";")),
            signature=fields.get("Signature", ""),
        )
    if "X-Amz-Credential" in req.query_string:
        cred = req.query_value("X-Amz-Credential")
        scope = _parse_scope(cred or "")
        if scope is None:
            return None
        return SigV4(
            *scope,
            signed_headers=tuple((req.query_value("X-Amz-SignedHeaders") or "").split(";")),
            signature=req.query_value("X-Amz-Signature") or "",
            presigned=True,
        )
    return None


def identify(
    sig: SigV4 | None,
    default_account: str,
    default_region: str,
    accounts: Mapping[str, str] | None = None,
) -> Identity:
    """Who calls: a key scoped to an account in the auth file acts in it; else a 12-digit
    access key id is the account; else the default account."""
    if sig is None:
        return Identity(default_account, default_region, None)
    key = sig.access_key_id
    scoped = accounts.get(key) if accounts else None
    if scoped is not None:
        account = scoped
    else:
        account = key if len(key) == 12 and key.isdigit() else default_account
    return Identity(account, sig.region or default_region, key)


def _canonical_query(req: HttpRequest, presigned: bool) -> str:
    pairs: list[tuple[str, str]] = []
    if req.query_string:
        for part in req.query_string.split("&"):
            key, _, value = part.partition("=")
            key, value = unquote(key), unquote(value)
            if presigned and key == "X-Amz-Signature":
                continue
            pairs.append((quote(key, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def payload_hash(req: HttpRequest) -> str:
    """The SHA-256 of the body as sent (before any content-encoding is undone), computed
    once per request and never taken from the client's word."""
    if req.body_sha256 is None:
        req.body_sha256 = hashlib.sha256(
            req.body if req.raw_body is None else req.raw_body
        ).hexdigest()
    return req.body_sha256


def canonical_request(req: HttpRequest, sig: SigV4, payload: str) -> str:
    if sig.service == "s3":
        path = req.path or "/"
    else:
        path = quote(normalize_url_path(req.path or "/"), safe="/~")
    headers = "".join(
        f"{name}:{' '.join(req.headers.get(name, '').split())}\n"
        for name in sorted(sig.signed_headers)
    )
    return "\n".join(
        [
            req.method.upper(),
            path,
            _canonical_query(req, sig.presigned),
            headers,
            ";".join(sorted(sig.signed_headers)),
            payload,
        ]
    )


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def _amz_date(req: HttpRequest, sig: SigV4) -> str:
    if sig.presigned:
        return req.query_value("X-Amz-Date") or ""
    return req.headers.get("x-amz-date", "")


def signature(req: HttpRequest, sig: SigV4, secret: str, payload: str | None = None) -> str:
    scope = f"{sig.date}/{sig.region}/{sig.service}/aws4_request"
    creq = canonical_request(req, sig, payload_hash(req) if payload is None else payload)
    to_sign = "\n".join(
        [ALGORITHM, _amz_date(req, sig), scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()]
    )
    key = _hmac(("AWS4" + secret).encode("utf-8"), sig.date)
    for part in (sig.region, sig.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _json_like(protocol: str) -> bool:
    return protocol in ("json", "rest-json", "smithy-rpc-v2-cbor")


def _incomplete(message: str, protocol: str) -> AuthError:
    code = "IncompleteSignatureException" if _json_like(protocol) else "IncompleteSignature"
    return AuthError(message, code=code)


def _mismatch(message: str, protocol: str) -> AuthError:
    code = "InvalidSignatureException" if _json_like(protocol) else "SignatureDoesNotMatch"
    return AuthError(message, code=code)


def _iso(t: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def _check_time(req: HttpRequest, sig: SigV4, protocol: str, now: float) -> None:
    amz_date = _amz_date(req, sig)
    try:
        signed_at = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise _incomplete(
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
            protocol,
        ) from None
    if amz_date[:8] != sig.date:
        raise _mismatch(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{sig.date}' != '{amz_date[:8]}', from '{amz_date}'.",
            protocol,
        )
    if signed_at > now + MAX_SKEW_SECONDS:
        if sig.service == "s3" and not sig.presigned:
            raise _too_skewed()
        raise _mismatch(
            f"Signature not yet current: {amz_date} is still later than "
            f"{_iso(now + MAX_SKEW_SECONDS)} ({_iso(now)} + 15 min.)",
            protocol,
        )
    if sig.presigned:
        raw = req.query_value("X-Amz-Expires")
        if raw is None or not raw.isdigit() or not 1 <= int(raw) <= MAX_PRESIGNED_SECONDS:
            raise AuthError(
                "X-Amz-Expires must be a whole number of seconds from 1 to "
                f"{MAX_PRESIGNED_SECONDS} (a week); got {raw!r}",
                code="AuthorizationQueryParametersError",
                status=400,
            )
        expires_at = signed_at + int(raw)
        if now > expires_at:
            if sig.service == "s3":
                raise AuthError("Request has expired", code="AccessDenied")
            raise _mismatch(
                f"Signature expired: {amz_date} is now earlier than {_iso(now - int(raw))} "
                f"({_iso(now)} - {int(raw)} sec.)",
                protocol,
            )
        return
    if signed_at < now - MAX_SKEW_SECONDS:
        if sig.service == "s3":
            raise _too_skewed()
        raise _mismatch(
            f"Signature expired: {amz_date} is now earlier than "
            f"{_iso(now - MAX_SKEW_SECONDS)} ({_iso(now)} - 15 min.)",
            protocol,
        )


def _too_skewed() -> AuthError:
    return AuthError(
        "The difference between the request time and the current time is too large.",
        code="RequestTimeTooSkewed",
    )


def session_token(req: HttpRequest, sig: SigV4) -> str | None:
    """The STS session token a request carries (header, or presigned query parameter)."""
    if sig.presigned:
        return req.query_value("X-Amz-Security-Token")
    return req.headers.get("x-amz-security-token")


def _invalid_key(sig: SigV4, protocol: str) -> AuthError:
    if sig.service == "s3":
        return AuthError(
            "The AWS Access Key Id you provided does not exist in our records.",
            code="InvalidAccessKeyId",
        )
    return AuthError(
        "The security token included in the request is invalid.",
        code="UnrecognizedClientException" if _json_like(protocol) else "InvalidClientTokenId",
    )


def _rejected(sig: SigV4, protocol: str, reason: str) -> AuthError:
    if reason == "expired":
        if sig.service == "s3":
            return AuthError("The provided token has expired.", code="ExpiredToken", status=400)
        if _json_like(protocol):
            return AuthError(
                "The security token included in the request is expired",
                code="ExpiredTokenException",
            )
        return AuthError(
            "The security token included in the request is expired", code="ExpiredToken"
        )
    if sig.service == "s3":
        return AuthError(
            "The provided token is malformed or otherwise invalid.", code="InvalidToken", status=400
        )
    return _invalid_key(sig, protocol)


def authenticate(
    req: HttpRequest,
    sig: SigV4 | None,
    keys: KeyDirectory | Mapping[str, str],
    protocol: str,
    now: float | None = None,
) -> SigningKey:
    """What can be decided before the body is read: a signature is there, its key is
    known (with a valid session token for temporary credentials), `host` and the date are
    signed, and the date is within 15 minutes (or the presigned URL within X-Amz-Expires).
    Returns the key (secret and principal); raises the AWS error."""
    if sig is None:
        raise AuthError(
            "Request is missing Authentication Token", code="MissingAuthenticationToken"
        )
    directory = StaticKeys(keys, {}, "") if isinstance(keys, Mapping) else keys
    moment = time.time() if now is None else now
    try:
        key = directory.signing_key(sig.access_key_id, session_token(req, sig), moment)
    except KeyRejected as rejected:
        raise _rejected(sig, protocol, rejected.reason) from None
    if key is None:
        raise _invalid_key(sig, protocol)
    _check_signed_fields(req, sig, protocol, moment)
    return key


def check_headers(
    req: HttpRequest,
    sig: SigV4 | None,
    credentials: KeyDirectory | Mapping[str, str],
    protocol: str,
    now: float | None = None,
) -> str:
    """`authenticate`, answering the key's secret."""
    return authenticate(req, sig, credentials, protocol, now).secret


def _check_signed_fields(req: HttpRequest, sig: SigV4, protocol: str, now: float) -> None:
    signed = sig.signed_headers
    if "host" not in signed:
        raise _incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.", protocol
        )
    if sig.presigned:
        if req.query_value("X-Amz-Date") is None:
            raise _incomplete("AWS query-string parameters must include 'X-Amz-Date'.", protocol)
    elif "x-amz-date" not in req.headers:
        raise _incomplete(
            "Authorization header requires existence of a 'X-Amz-Date' header.", protocol
        )
    elif "x-amz-date" not in signed:
        raise _incomplete(
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.", protocol
        )
    _check_time(req, sig, protocol, now)


def check_signature(req: HttpRequest, sig: SigV4, secret: str, protocol: str) -> None:
    """The signature over the request as received, with the body's hash computed here."""
    computed = payload_hash(req)
    claimed = req.headers.get("x-amz-content-sha256")
    unsigned_ok = sig.service == "s3" or sig.presigned
    payloads = [computed]
    if claimed == UNSIGNED_PAYLOAD and unsigned_ok:
        payloads = [UNSIGNED_PAYLOAD]
    elif claimed is not None and claimed != computed and sig.service == "s3":
        raise AuthError(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            code="XAmzContentSHA256Mismatch",
            status=400,
        )
    elif sig.presigned and not (req.body or req.raw_body):
        # S3 presigns with UNSIGNED-PAYLOAD; other presigners hash the (empty) body.
        payloads.append(UNSIGNED_PAYLOAD)
    for payload in payloads:
        if hmac.compare_digest(signature(req, sig, secret, payload), sig.signature):
            return
    raise _mismatch(
        "The request signature we calculated does not match the signature you "
        "provided. Check your AWS Secret Access Key and signing method.",
        protocol,
    )


def verify(
    req: HttpRequest,
    sig: SigV4 | None,
    credentials: KeyDirectory | Mapping[str, str],
    protocol: str,
    now: float | None = None,
) -> None:
    """Raise the AWS error for a request whose signature does not hold."""
    secret = check_headers(req, sig, credentials, protocol, now)
    if sig is not None:
        check_signature(req, sig, secret, protocol)
