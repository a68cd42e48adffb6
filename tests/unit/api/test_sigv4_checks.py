"""The SigV4 checks of api/auth.py at chosen clocks: the 15-minute window, X-Amz-Expires,
the credential scope's date, and the answers S3-style signing gets."""

from __future__ import annotations

import calendar
import datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from dockyard.api.auth import AuthError, parse_sigv4, verify
from dockyard.api.http import HttpRequest

CREDS = {"AKID": "secret"}
SIGNED_AT = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.UTC)
T0 = calendar.timegm(SIGNED_AT.timetuple())


def _sign(
    signer: SigV4Auth, method: str = "POST", url: str = "http://h:1/", body: bytes = b"{}"
) -> HttpRequest:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "x"})
    request.context["timestamp"] = SIGNED_AT.strftime(SIGV4_TIMESTAMP)
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signer._inject_signature_to_request(
        request, signer.signature(signer.string_to_sign(request, canonical), request)
    )
    parts = urlsplit(str(request.url))
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.setdefault("host", parts.netloc)
    data = request.body if isinstance(request.body, bytes) else (request.body or b"")
    return HttpRequest(method, parts.path, parts.query, headers, data)


def _check(req: HttpRequest, now: float, protocol: str = "json") -> None:
    verify(req, parse_sigv4(req), CREDS, protocol, now=now)


def _code(req: HttpRequest, now: float, protocol: str = "json") -> str:
    with pytest.raises(AuthError) as info:
        _check(req, now, protocol)
    return info.value.code


def test_the_window_is_15_minutes_either_way() -> None:
    req = _sign(SigV4Auth(Credentials("AKID", "secret"), "ecs", "us-east-1"))
    for offset in (-900, 0, 900):
        _check(req, T0 + offset)
    assert _code(req, T0 + 901) == "InvalidSignatureException"
    assert _code(req, T0 - 901) == "InvalidSignatureException"
    assert _code(req, T0 + 901, "query") == "SignatureDoesNotMatch"


def test_the_expired_message_names_both_times() -> None:
    req = _sign(SigV4Auth(Credentials("AKID", "secret"), "ecs", "us-east-1"))
    with pytest.raises(AuthError) as info:
        _check(req, T0 + 3600)
    assert info.value.message == (
        "Signature expired: 20260301T120000Z is now earlier than 20260301T124500Z "
        "(20260301T130000Z - 15 min.)"
    )


def test_a_presigned_url_lives_x_amz_expires_seconds() -> None:
    signer = SigV4QueryAuth(Credentials("AKID", "secret"), "ecs", "us-east-1", expires=3600)
    req = _sign(signer, "GET", "http://h:1/?Action=X", b"")
    _check(req, T0 + 3600)
    assert _code(req, T0 + 3601) == "InvalidSignatureException"


def test_an_x_amz_expires_over_a_week_is_refused() -> None:
    signer = SigV4QueryAuth(Credentials("AKID", "secret"), "ecs", "us-east-1", expires=604801)
    req = _sign(signer, "GET", "http://h:1/?Action=X", b"")
    assert _code(req, T0) == "AuthorizationQueryParametersError"


def test_s3_answers_request_time_too_skewed_and_accepts_unsigned_payload() -> None:
    signer = S3SigV4Auth(Credentials("AKID", "secret"), "s3", "us-east-1")
    req = _sign(signer, "PUT", "http://h:1/bucket/key", b"data")
    assert _code(req, T0 + 1000, "rest-xml") == "RequestTimeTooSkewed"
    _check(req, T0, "rest-xml")
    req.headers["x-amz-content-sha256"] = "0" * 64
    assert _code(req, T0, "rest-xml") == "XAmzContentSHA256Mismatch"


def test_the_scope_date_must_be_the_request_date() -> None:
    req = _sign(SigV4Auth(Credentials("AKID", "secret"), "ecs", "us-east-1"))
    req.headers["x-amz-date"] = "20260302T120000Z"
    assert _code(req, T0 + 86400) == "InvalidSignatureException"
