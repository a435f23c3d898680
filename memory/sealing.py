"""Encryption at rest for stored memory values and checkpoints (AES-256-GCM).

Keys are derived from MEMORY_ENCRYPTION_KEY (and, while rotating, old keys) with SHA-256,
and every ciphertext names the key that sealed it, so old data stays readable after a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = "sealed"


class Sealer(Protocol):
    def seal(self, value: dict[str, Any]) -> dict[str, Any]: ...

    def open(self, value: dict[str, Any]) -> dict[str, Any]: ...


class PlainSealer:
    """No key configured: values are stored as they are."""

    def seal(self, value: dict[str, Any]) -> dict[str, Any]:
        return value

    def open(self, value: dict[str, Any]) -> dict[str, Any]:
        if SEALED in value:
            raise ValueError("this memory is encrypted: set MEMORY_ENCRYPTION_KEY to read it")
        return value


class AesGcmSealer:
    """Seals with the first key; opens with whichever key id the ciphertext names."""

    def __init__(self, secret: str, old_secrets: tuple[str, ...] = ()) -> None:
        if not secret:
            raise ValueError("an encryption key must not be empty")
        self._keys: dict[str, AESGCM] = {}
        for value in (secret, *old_secrets):
            digest = hashlib.sha256(value.encode()).digest()
            key_id = hashlib.sha256(b"key-id" + digest).hexdigest()[:8]
            self._keys.setdefault(key_id, AESGCM(digest))
        self._primary = next(iter(self._keys))

    # CipherProtocol, for LangGraph's EncryptedSerializer (checkpoints).
    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(12)
        return f"aesgcm-{self._primary}", nonce + self._keys[self._primary].encrypt(
            nonce, plaintext, None
        )

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        key_id = ciphername.removeprefix("aesgcm-")
        if key_id not in self._keys:
            raise ValueError(f"no key for ciphertext sealed with key {key_id}")
        return self._keys[key_id].decrypt(ciphertext[:12], ciphertext[12:], None)

    # Store values.
    def seal(self, value: dict[str, Any]) -> dict[str, Any]:
        name, data = self.encrypt(json.dumps(value, separators=(",", ":")).encode())
        return {SEALED: f"{name}:{base64.b64encode(data).decode()}"}

    def open(self, value: dict[str, Any]) -> dict[str, Any]:
        sealed = value.get(SEALED)
        if not isinstance(sealed, str):
            return value  # written before encryption was switched on; sealed on next write
        name, _, data = sealed.partition(":")
        opened: dict[str, Any] = json.loads(self.decrypt(name, base64.b64decode(data)))
        return opened
