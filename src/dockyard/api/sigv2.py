"""S3 presigned URLs in the legacy query form (`AWSAccessKeyId`, `Expires`, `Signature`:
HMAC-SHA1), which boto3's `generate_presigned_url` still produces for S3 unless told to use
SigV4. Only presigned URLs: a request signed with a SigV2 Authorization header is refused
as AWS refuses it in new regions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import unquote

from dockyard.api.auth import AuthError, SigV4
from dockyard.api.http import HttpRequest
from dockyard.core.principals import KeyDirectory, KeyRejected, SigningKey, StaticKeys

# The query parameters that are part of the signed resource (S3's subresources).
_SUBRESOURCES = frozenset(
    {
        "acl", "cors", "delete", "lifecycle", "location", "logging", "notification",
        "partNumber", "policy", "requestPayment", "tagging", "torrent", "uploadId",
        "uploads", "versionId", "versioning", "versions", "website", "restore",
        "response-cache-control", "response-content-disposition",
        "response-content-encoding", "response-content-language",
        "response-content-type", "response-expires",
    }
)  # fmt: skip


def presigned_v2(req: HttpRequest) -> bool:
    q = req.query_string
    return "AWSAccessKeyId=" in q and "Signature=" in q and "Expires=" in q


def check_presigned_v2(
    req: HttpRequest,
    keys: KeyDirectory | Mapping[str, str] | None,
    resource_path: str,
    region: str,
    now: float | None = None,
) -> tuple[SigV4, SigningKey | None]:
    """Verify a SigV2 presigned S3 URL (`resource_path`: the path-style path): the
    request's signing fields, as a presigned S3 request, for routing and identity, and the
    key that signed it (None when the server checks no signatures)."""
    key = req.query_value("AWSAccessKeyId") or ""
    claimed = req.query_value("Signature") or ""
    expires = req.query_value("Expires") or ""
    fields = SigV4(key, "", region, "s3", (), claimed, presigned=True)
    if keys is None:
        return fields, None
    directory = StaticKeys(keys, {}, "") if isinstance(keys, Mapping) else keys
    moment = time.time() if now is None else now
    try:
        signer = directory.signing_key(key, req.query_value("x-amz-security-token"), moment)
    except KeyRejected as rejected:
        code = "ExpiredToken" if rejected.reason == "expired" else "InvalidToken"
        message = (
            "The provided token has expired."
            if rejected.reason == "expired"
            else "The provided token is malformed or otherwise invalid."
        )
        raise AuthError(message, code=code, status=400) from None
    if signer is None:
        raise AuthError(
            "The AWS Access Key Id you provided does not exist in our records.",
            code="InvalidAccessKeyId",
        )
    secret = signer.secret
    if not expires.isdigit():
        raise AuthError("Query-string authentication requires the Expires parameter",
                        code="AccessDenied")  # fmt: skip
    if moment > int(expires):
        raise AuthError("Request has expired", code="AccessDenied")
    subresources = sorted(
        (k, v) for k, v in (part.partition("=")[::2] for part in req.query_string.split("&"))
        if unquote(k) in _SUBRESOURCES
    )  # fmt: skip
    resource = resource_path
    if subresources:
        resource += "?" + "&".join(
            unquote(k) if not v else f"{unquote(k)}={unquote(v)}" for k, v in subresources
        )
    amz = sorted(
        (name, value.strip()) for name, value in req.headers.items() if name.startswith("x-amz-")
    )
    to_sign = "\n".join(
        [
            req.method,
            req.headers.get("content-md5", ""),
            req.headers.get("content-type", ""),
            expires,
            *(f"{name}:{value}" for name, value in amz),
            resource,
        ]
    )
    digest = hmac.new(secret.encode(), to_sign.encode("utf-8"), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), claimed):
        raise AuthError(
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
            code="SignatureDoesNotMatch",
        )
    return fields, signer
