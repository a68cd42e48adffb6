"""IMDSv2 session tokens: opaque, bound to one instance, expiring.

A token is a random nonce, the instance id and the expiry time, sealed with an HMAC under a
key this server process draws at start; nothing is kept per token, so no number of `PUT`s
can grow the server's memory. A token is only good for the instance it was issued to (its
private address names the instance) and until it expires in the server's clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from dockyard.core.clock import Clock

MIN_TTL = 1  # seconds, as IMDS accepts in X-aws-ec2-metadata-token-ttl-seconds
MAX_TTL = 21600  # six hours
MAX_TOKEN = 512  # characters: anything longer is not one of ours


class TokenBook:
    def __init__(self, clock: Clock, key: bytes | None = None) -> None:
        self.clock = clock
        self._key = key or secrets.token_bytes(32)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def issue(self, instance_id: str, ttl: int) -> str:
        expires = self.clock.now() + ttl
        nonce = secrets.token_bytes(12).hex().encode()
        payload = b"%s|%s|%.3f" % (nonce, instance_id.encode(), expires)
        return base64.urlsafe_b64encode(payload + b"|" + self._mac(payload)).decode()

    def remaining(self, token: str, instance_id: str) -> float | None:
        """Seconds the token stays valid for `instance_id`, or None when it is not valid (not
        ours, tampered with, another instance's, or expired)."""
        if not token or len(token) > MAX_TOKEN:
            return None
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return None
        payload, mac = raw[:-33], raw[-32:]
        if (
            len(raw) < 34
            or raw[-33:-32] != b"|"
            or not hmac.compare_digest(mac, self._mac(payload))
        ):
            return None
        parts = payload.split(b"|")
        if len(parts) != 3 or parts[1].decode(errors="replace") != instance_id:
            return None
        left = float(parts[2]) - self.clock.now()
        return left if left > 0 else None
