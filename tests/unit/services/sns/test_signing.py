"""Signatures of HTTP/S messages: the string SNS signs, both versions, and the key kept."""

from __future__ import annotations

import base64

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dockyard.services.sns import signing
from dockyard.store import SqliteStore

NOTIFICATION = {
    "Type": "Notification",
    "MessageId": "m-1",
    "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
    "Message": "hello",
    "Timestamp": "2023-11-14T22:13:20.000Z",
}


def test_the_string_to_sign_follows_snss_order_and_skips_a_missing_subject() -> None:
    assert signing.string_to_sign(NOTIFICATION) == (
        "Message\nhello\nMessageId\nm-1\nTimestamp\n2023-11-14T22:13:20.000Z\n"
        "TopicArn\narn:aws:sns:us-east-1:123456789012:t\nType\nNotification\n"
    )
    with_subject = {**NOTIFICATION, "Subject": "Hi"}
    assert "MessageId\nm-1\nSubject\nHi\nTimestamp" in signing.string_to_sign(with_subject)


def test_a_confirmation_signs_its_subscribe_url_and_token() -> None:
    doc = {**NOTIFICATION, "Type": "SubscriptionConfirmation", "SubscribeURL": "http://x/?a",
           "Token": "tok"}  # fmt: skip
    text = signing.string_to_sign(doc)
    assert "SubscribeURL\nhttp://x/?a\nTimestamp" in text and "Token\ntok\nTopicArn" in text


def test_version_1_is_sha1_and_version_2_is_sha256_with_the_published_certificate() -> None:
    signer = signing.load_or_create(SqliteStore(":memory:"), 1_700_000_000.0)
    key = x509.load_pem_x509_certificate(signer.cert_pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    data = signing.string_to_sign(NOTIFICATION).encode()
    for version, algorithm in (("1", hashes.SHA1()), ("2", hashes.SHA256())):
        signature = base64.b64decode(signer.sign(NOTIFICATION, version))
        key.verify(signature, data, padding.PKCS1v15(), algorithm)  # raises when wrong
        doc = {**NOTIFICATION, "SignatureVersion": version,
               "Signature": signer.sign(NOTIFICATION, version)}  # fmt: skip
        assert signing.verify(signer.cert_pem, doc)
        assert not signing.verify(signer.cert_pem, {**doc, "Message": "changed"})


def test_the_key_is_made_once_and_kept_in_the_store() -> None:
    store = SqliteStore(":memory:")
    first = signing.load_or_create(store, 1_700_000_000.0)
    again = signing.load_or_create(store, 1_800_000_000.0)
    assert again.cert_id == first.cert_id and again.cert_pem == first.cert_pem
    assert first.cert_name == f"SimpleNotificationService-{first.cert_id}.pem"
