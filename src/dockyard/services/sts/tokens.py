"""Session tokens: sealed, self-describing blobs under the server's own key.

A temporary credential is not stored: its session token carries everything the front door
needs (the access key id, its secret, the principal, the expiry), encrypted and authenticated
with AES-GCM under a key derived from the server's `store.key`. So credentials keep working
across restarts until they expire, nothing about them is in clear anywhere, and a token
cannot be forged or edited: any change fails authentication.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "IQoJb3JpZ2luX2VjE"  # session tokens are opaque; this one starts as AWS's do
AAD = b"dockyard sts session token v1"
NONCE_BYTES = 12
MAX_TOKEN_CHARS = 8192


class TokenSealer:
    def __init__(self, server_key: bytes) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"dockyard sts tokens"
        ).derive(server_key)
        self._aead = AESGCM(derived)

    def seal(self, claims: dict[str, Any]) -> str:
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(claims, separators=(",", ":")).encode()
        blob = nonce + self._aead.encrypt(nonce, plain, AAD)
        return PREFIX + base64.urlsafe_b64encode(blob).decode().rstrip("=")

    def open(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this server sealed; None for anything else."""
        if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_CHARS:
            return None
        body = token[len(PREFIX) :]
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], AAD)
            claims = json.loads(plain)
        except (binascii.Error, ValueError, InvalidTag):
            return None
        return claims if isinstance(claims, dict) else None
