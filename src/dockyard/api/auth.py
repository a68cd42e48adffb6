"""SigV4: who is calling, from which region, and (when credentials are configured)
whether the signature holds."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

from dockyard.api.errors import ServiceError
from dockyard.api.http import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"


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
    sig: SigV4 | None, default_account: str, default_region: str
) -> Identity:
    if sig is None:
        return Identity(default_account, default_region, None)
    key = sig.access_key_id
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


def canonical_request(req: HttpRequest, sig: SigV4) -> str:
    if sig.service == "s3":
        path = req.path or "/"
    else:
        path = quote(normalize_url_path(req.path or "/"), safe="/~")
    headers = "".join(
        f"{name}:{' '.join(req.headers.get(name, '').split())}\n"
        for name in sorted(sig.signed_headers)
    )
    if sig.presigned:
        payload = "UNSIGNED-PAYLOAD"
    else:
        payload = req.headers.get("x-amz-content-sha256") or hashlib.sha256(
            req.body if req.raw_body is None else req.raw_body
        ).hexdigest()
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


def signature(req: HttpRequest, sig: SigV4, secret: str) -> str:
    amz_date = req.headers.get("x-amz-date") or req.query_value("X-Amz-Date") or ""
    scope = f"{sig.date}/{sig.region}/{sig.service}/aws4_request"
    creq = canonical_request(req, sig)
    to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode("utf-8")).hexdigest()]
    )
    key = _hmac(("AWS4" + secret).encode("utf-8"), sig.date)
    for part in (sig.region, sig.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(req: HttpRequest, sig: SigV4 | None, credentials: dict[str, str], protocol: str) -> None:
    """Raise the AWS error for a request whose signature does not hold."""
    json_like = protocol in ("json", "rest-json", "smithy-rpc-v2-cbor")
    if sig is None:
        raise AuthError(
            "Request is missing Authentication Token", code="MissingAuthenticationToken"
        )
    secret = credentials.get(sig.access_key_id)
    if secret is None:
        if sig.service == "s3":
            raise AuthError(
                "The AWS Access Key Id you provided does not exist in our records.",
                code="InvalidAccessKeyId",
            )
        raise AuthError(
            "The security token included in the request is invalid.",
            code="UnrecognizedClientException" if json_like else "InvalidClientTokenId",
        )
    expected = signature(req, sig, secret)
    if not hmac.compare_digest(expected, sig.signature):
        raise AuthError(
            "The request signature we calculated does not match the signature you "
            "provided. Check your AWS Secret Access Key and signing method.",
            code="InvalidSignatureException" if json_like else "SignatureDoesNotMatch",
        )
