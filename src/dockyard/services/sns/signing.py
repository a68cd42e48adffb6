"""How SNS signs what it POSTs to HTTP/S endpoints: an RSA key and a self-signed certificate
made once and kept in the store (sealed, kind `sns.signing-key`); the certificate is served
at the SigningCertURL. SignatureVersion 1 signs with SHA1withRSA, 2 with SHA256withRSA, over
the string SNS documents: `Name\\nValue\\n` for each signed field, in its order."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from dockyard.core.ids import new_id
from dockyard.services.sns.model import SIGNING_KIND
from dockyard.store.base import Store

KEY = "signing"
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
)  # fmt: skip


def string_to_sign(message: Mapping[str, str]) -> str:
    """The canonical text of a message (Subject only when it has one)."""
    fields = NOTIFICATION_FIELDS if message.get("Type") == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{message[name]}\n" for name in fields if name in message)


def _hash(version: str) -> hashes.HashAlgorithm:
    return hashes.SHA256() if version == "2" else hashes.SHA1()


@dataclass(slots=True)
class Signer:
    cert_id: str
    key: rsa.RSAPrivateKey
    cert_pem: bytes

    @property
    def cert_name(self) -> str:
        return f"SimpleNotificationService-{self.cert_id}.pem"

    def sign(self, message: Mapping[str, str], version: str) -> str:
        data = string_to_sign(message).encode()
        raw = self.key.sign(data, padding.PKCS1v15(), _hash(version))
        return base64.b64encode(raw).decode()


def verify(cert_pem: bytes, message: Mapping[str, str]) -> bool:
    """What a subscriber does: check `Signature` against the certificate's public key."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        return False
    try:
        public.verify(
            base64.b64decode(message["Signature"]),
            string_to_sign(message).encode(),
            padding.PKCS1v15(),
            _hash(message.get("SignatureVersion", "1")),
        )
    except Exception:  # InvalidSignature, a malformed signature
        return False
    return True


def _new(now: float) -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = datetime.datetime.fromtimestamp(now, datetime.UTC) - datetime.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return Signer(new_id(), key, cert.public_bytes(serialization.Encoding.PEM))


def load_or_create(store: Store, now: float) -> Signer:
    """The server's signer: the stored one, or a new one written to the store first."""
    body = store.get(SIGNING_KIND, KEY)
    if body is not None:
        key = serialization.load_pem_private_key(body["key"].encode(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            return Signer(body["cert_id"], key, body["cert"].encode())
    signer = _new(now)
    key_pem = signer.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    store.put(SIGNING_KIND, KEY, {"cert_id": signer.cert_id, "key": key_pem.decode(),
                                  "cert": signer.cert_pem.decode()})  # fmt: skip
    return signer
