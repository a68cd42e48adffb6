"""Records sealed at rest: the store keeps the records of some kinds (SSM parameters, Secrets
Manager secrets) encrypted with AES-GCM under a key of the server's own, so their values are
not in clear in the database, its backups or its dumps.

AWS keeps SecureString parameters and secrets encrypted under KMS keys; Dockyard has no KMS,
so a 256-bit key in the data dir (`store.key`, 0600) stands in for it. Each record is bound to
its kind and key (the AEAD's associated data), so a sealed body cannot be moved to another
record. A record written before sealing was turned on is read as it is and sealed on its next
write."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dockyard.store.base import Delete, Put, Store, StoreError

SEALED = "sealed"
VERSION = "v1:"
KEY_BYTES = 32
NONCE_BYTES = 12


def load_or_create_key(path: Path) -> bytes:
    """The sealing key at `path`, created (random, 0600) on first use."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = os.urandom(KEY_BYTES)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
    if len(key) != KEY_BYTES:
        raise StoreError(f"{path} is not a {KEY_BYTES}-byte sealing key")
    return key


class SealedStore:
    def __init__(self, inner: Store, key: bytes, kinds: Iterable[str]) -> None:
        self.inner = inner
        self.kinds = frozenset(kinds)
        self._aead = AESGCM(key)

    def _seal(self, kind: str, key: str, value: dict[str, Any]) -> dict[str, Any]:
        if kind not in self.kinds:
            return value
        nonce = os.urandom(NONCE_BYTES)
        plain = json.dumps(value, separators=(",", ":")).encode()
        sealed = self._aead.encrypt(nonce, plain, f"{kind}\0{key}".encode())
        return {SEALED: VERSION + base64.b64encode(nonce + sealed).decode()}

    def _open(self, kind: str, key: str, body: dict[str, Any] | None) -> dict[str, Any] | None:
        if body is None or kind not in self.kinds or set(body) != {SEALED}:
            return body
        text = str(body[SEALED])
        if not text.startswith(VERSION):
            raise StoreError(f"{kind} {key}: sealed with an unknown version")
        raw = base64.b64decode(text[len(VERSION) :])
        try:
            plain = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"{kind}\0{key}".encode()
            )
        except InvalidTag as exc:
            raise StoreError(
                f"{kind} {key}: cannot be unsealed with this data dir's store.key (a key from "
                "another server, or a record moved)"
            ) from exc
        return dict(json.loads(plain))

    def write(self, puts: Iterable[Put] = (), deletes: Iterable[Delete] = ()) -> None:
        self.inner.write([(k, key, self._seal(k, key, v)) for k, key, v in puts], deletes)

    def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        self.inner.put(kind, key, self._seal(kind, key, value))

    def delete(self, kind: str, key: str) -> None:
        self.inner.delete(kind, key)

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        return self._open(kind, key, self.inner.get(kind, key))

    def committed(self, kind: str, key: str) -> dict[str, Any] | None:
        return self._open(kind, key, self.inner.committed(kind, key))

    def load(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, body in self.inner.load(kind):
            opened = self._open(kind, key, body)
            assert opened is not None
            yield key, opened

    def reset(self) -> None:
        self.inner.reset()

    def close(self) -> None:
        self.inner.close()
