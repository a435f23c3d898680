"""Encryption at rest for stored memory values and checkpoints (AES-256-GCM).

Two layers when MEMORY_ENCRYPTION_KEY is set:

- The master key, derived from the passphrase with scrypt (see `derive_key`). It seals what
  belongs to nobody in particular (Slack installations, inbox events without a known author,
  the erasure log kept through forget all) and wraps the data keys.
- Data keys (`KeyRing`): one random AES-256 key per owner, a person (their memory), a
  conversation (its checkpoints) or an account (its events waiting in the inbox), stored
  wrapped by the master key in the store under ("keys", <owner label>). Forget all deletes
  the owner's wrapped keys, so every copy of what they sealed (in a write-ahead log, a dead
  row version, a backup) can no longer be opened with the master key alone. The next write
  creates a fresh key. Copies of a destroyed key's wrapped form left in a write-ahead log or
  a backup are retired by rotating the master key (`memory.rotation`) and discarding the old.

Every ciphertext names the key that sealed it, so data sealed under older settings stays
readable: `aesgcm-<id>` for the master key (and old keys, and keys derived with the former
bare SHA-256), `dk1-<owner label>-<key id>` for a data key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from cachetools import LRUCache
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from langgraph.store.base import BaseStore

SEALED = "sealed"

# scrypt, because MEMORY_ENCRYPTION_KEY is a passphrase a person chose, not random bytes: each
# guess costs an attacker 32 MiB and a fraction of a second (RFC 7914's interactive figures,
# N=2^15, r=8, p=1), where the former bare SHA-256 cost nanoseconds. The salt is fixed and
# public: the key must follow from the passphrase alone (there is nowhere to keep a salt that
# the key itself protects), and a salt of our own still rules out tables built for others.
SCRYPT_SALT = b"memory-bot/MEMORY_ENCRYPTION_KEY/scrypt/v1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

DATA_KEY_PREFIX = "dk1"
KEYS_ROOT = "keys"
# Unwrapped data keys kept in memory (32 bytes each), and labels/ids known to be destroyed.
KEY_CACHE = 50_000


class Sealer(Protocol):
    def seal(self, value: dict[str, Any]) -> dict[str, Any]: ...

    def open(self, value: dict[str, Any]) -> dict[str, Any]: ...


class ValueSwap(Protocol):
    """Compare-and-swap of one store row, which the store API lacks (the storage layer
    provides it over its own tables)."""

    async def __call__(
        self, namespace: tuple[str, ...], key: str, old: dict[str, Any], new: dict[str, Any]
    ) -> bool:
        """Store `new` at (namespace, key) if the stored value is still `old` (as the store
        returned it), marking the row as just written; False when it changed or is gone."""
        ...


class KeyGone(ValueError):
    """Sealed with a data key that was destroyed (its owner was forgotten): unreadable for good."""


class KeyNotLoaded(LookupError):
    """Sealed with a data key this process has not read yet: `await KeyRing.load([ref])` first."""

    def __init__(self, ref: DataKeyRef) -> None:
        super().__init__(f"data key {ref.kid} is not loaded")
        self.ref = ref


@functools.lru_cache(maxsize=16)
def derive_key(secret: str) -> bytes:
    """The 32-byte master key for a passphrase: scrypt(N=2^15, r=8, p=1) over its UTF-8
    bytes with SCRYPT_SALT. Cached: a process derives each configured key once (~0.1-0.5 s)."""
    kdf = Scrypt(salt=SCRYPT_SALT, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(secret.encode())


def legacy_key(secret: str) -> bytes:
    """The key earlier versions derived (SHA-256 of the passphrase): still accepted for
    opening what they sealed, never used to seal."""
    return hashlib.sha256(secret.encode()).digest()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"key-id" + key).hexdigest()[:8]


def owner_label(owner: str) -> str:
    """The store label of an owner's keys: a hash, so ids with dots (Slack thread stamps)
    fit a namespace label and the key table names nobody."""
    return hashlib.sha256(owner.encode()).hexdigest()[:32]


def person_owner(person: str) -> str:
    """The data-key owner for a person's memory rows."""
    return f"person:{person}"


def inbox_owner(account: str) -> str:
    """The data-key owner for what an account wrote that waits in the inbox (an account key,
    as the platform names the author; forget all destroys the keys of every account of the
    person)."""
    return f"inbox:{account}"


def thread_owner(thread: str) -> str:
    """The data-key owner for a conversation's checkpoints."""
    return f"thread:{thread}"


@dataclass(frozen=True)
class DataKeyRef:
    """Which data key sealed something: the owner's label and the key's random id."""

    label: str
    kid: str

    @property
    def name(self) -> str:
        return f"{DATA_KEY_PREFIX}-{self.label}-{self.kid}"

    @property
    def aad(self) -> bytes:
        # Bound into every ciphertext: a blob cannot be passed off as another owner's.
        return f"{DATA_KEY_PREFIX}:{self.label}:{self.kid}".encode()

    @classmethod
    def parse(cls, name: str) -> DataKeyRef | None:
        prefix, _, rest = name.partition("-")
        label, _, kid = rest.partition("-")
        if prefix != DATA_KEY_PREFIX or not label or not kid:
            return None
        return cls(label, kid)


# The data key that checkpoint writes in this context seal with (set by memory.checkpoints).
SEALING_WITH: ContextVar[DataKeyRef | None] = ContextVar("sealing_with", default=None)


@contextmanager
def sealing_with(ref: DataKeyRef) -> Iterator[None]:
    """Checkpoint blobs serialized inside this block are sealed with `ref`."""
    token = SEALING_WITH.set(ref)
    try:
        yield
    finally:
        SEALING_WITH.reset(token)


class PlainSealer:
    """No key configured: values are stored as they are."""

    def seal(self, value: dict[str, Any]) -> dict[str, Any]:
        return value

    def open(self, value: dict[str, Any]) -> dict[str, Any]:
        if SEALED in value:
            raise ValueError("this memory is encrypted: set MEMORY_ENCRYPTION_KEY to read it")
        return value


class AesGcmSealer:
    """Seals with the first key; opens with whichever key id the ciphertext names.

    Each passphrase counts twice: its scrypt key (`derive_key`, used to seal) and its former
    SHA-256 key (`legacy_key`, opening only), so data sealed before scrypt stays readable.
    Raises ValueError for an empty passphrase.
    """

    def __init__(self, secret: str, old_secrets: tuple[str, ...] = ()) -> None:
        if not secret:
            raise ValueError("an encryption key must not be empty")
        self._keys: dict[str, AESGCM] = {}
        for value in (secret, *old_secrets):
            for key in (derive_key(value), legacy_key(value)):
                self._keys.setdefault(_key_id(key), AESGCM(key))
        self._primary = next(iter(self._keys))

    def _master_encrypt(self, plaintext: bytes, aad: bytes | None = None) -> tuple[str, bytes]:
        nonce = os.urandom(12)
        sealed = self._keys[self._primary].encrypt(nonce, plaintext, aad)
        return f"aesgcm-{self._primary}", nonce + sealed

    def _master_decrypt(
        self, ciphername: str, ciphertext: bytes, aad: bytes | None = None
    ) -> bytes:
        key_id = ciphername.removeprefix("aesgcm-")
        if key_id not in self._keys:
            raise ValueError(f"no key for ciphertext sealed with key {key_id}")
        return self._keys[key_id].decrypt(ciphertext[:12], ciphertext[12:], aad)

    # CipherProtocol, for LangGraph's EncryptedSerializer (checkpoints).
    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        return self._master_encrypt(plaintext)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        return self._master_decrypt(ciphername, ciphertext)

    # Store values.
    def seal(self, value: dict[str, Any]) -> dict[str, Any]:
        """Sealed with the master key."""
        name, data = self._master_encrypt(_dump(value))
        return _envelope(name, data)

    def open(self, value: dict[str, Any]) -> dict[str, Any]:
        sealed = value.get(SEALED)
        if not isinstance(sealed, str):
            return value  # written before encryption was switched on; sealed on next write
        name, _, data = sealed.partition(":")
        opened: dict[str, Any] = json.loads(self.decrypt(name, base64.b64decode(data)))
        return opened


class KeyRing(AesGcmSealer):
    """The master key plus per-owner data keys kept wrapped in a store (see the module doc).

    Sealing with a data key is synchronous and opening too, so the keys involved are read
    first: `await data_key(owner)` before sealing, `await ready(values)` (or `load`) before
    opening. Opening something whose key was not read raises KeyNotLoaded; whose key was
    destroyed, KeyGone. `attach(store)` before any data-key call.
    """

    def __init__(
        self, secret: str, old_secrets: tuple[str, ...] = (), store: BaseStore | None = None
    ) -> None:
        super().__init__(secret, old_secrets)
        self.store = store
        # Set by the storage layer: re-wrapping a key in use then never writes back a key that
        # forget all destroyed meanwhile (without it, a plain put).
        self.swap: ValueSwap | None = None
        self._data: LRUCache[DataKeyRef, AESGCM] = LRUCache(maxsize=KEY_CACHE)
        self._gone: LRUCache[DataKeyRef, bool] = LRUCache(maxsize=KEY_CACHE)

    def attach(self, store: BaseStore) -> None:
        """Keep wrapped data keys in `store` (the memory store)."""
        self.store = store

    def _store(self) -> BaseStore:
        if self.store is None:
            raise RuntimeError("KeyRing.attach(store) was not called")
        return self.store

    async def data_key(self, owner: str) -> DataKeyRef:
        """The key `owner`'s next writes seal with: the newest of theirs, made when they have
        none (first use, or the first write after forget all). Read from the store every time,
        so a key another process destroyed is never used again."""
        label = owner_label(owner)
        found = await self._store().asearch((KEYS_ROOT, label), limit=20)
        if found:
            newest = max(found, key=lambda item: float(item.value.get("at", 0)))
            ref = DataKeyRef(label, newest.key)
            material = self._unwrap(ref, newest.value)
            self._data[ref] = AESGCM(material)
            if not str(newest.value.get("wrapped", "")).startswith(f"aesgcm-{self._primary}:"):
                # Wrapped by an older master key: re-wrapped with the current one, so the old
                # one can be retired once every key in use has been re-wrapped.
                at = float(newest.value.get("at", 0))
                if self.swap is None:
                    await self._put_key(ref, material, at)
                else:
                    row = self._wrapped_row(ref, material, at)
                    await self.swap((KEYS_ROOT, label), ref.kid, newest.value, row)
            return ref
        ref = DataKeyRef(label, secrets.token_hex(8))
        material = AESGCM.generate_key(bit_length=256)
        await self._put_key(ref, material, time.time())
        self._data[ref] = AESGCM(material)
        return ref

    def _wrapped_row(self, ref: DataKeyRef, material: bytes, at: float) -> dict[str, Any]:
        name, wrapped = self._master_encrypt(material, ref.aad)
        return {"wrapped": f"{name}:{base64.b64encode(wrapped).decode()}", "at": at}

    async def _put_key(self, ref: DataKeyRef, material: bytes, at: float) -> None:
        row = self._wrapped_row(ref, material, at)
        await self._store().aput((KEYS_ROOT, ref.label), ref.kid, row, index=False)

    def _unwrap(self, ref: DataKeyRef, row: dict[str, Any]) -> bytes:
        name, _, data = str(row.get("wrapped", "")).partition(":")
        try:
            return self._master_decrypt(name, base64.b64decode(data), ref.aad)
        except InvalidTag:
            raise ValueError(f"data key {ref.kid} does not open with the configured key") from None

    async def load(self, refs: Iterable[DataKeyRef]) -> None:
        """Read and unwrap the data keys `refs` not in memory yet; those no longer stored are
        remembered as destroyed. Raises ValueError when the master key cannot unwrap one."""
        for ref in set(refs):
            if ref in self._data or ref in self._gone:
                continue
            found = await self._store().aget((KEYS_ROOT, ref.label), ref.kid)
            if found is None:
                self._gone[ref] = True
            else:
                self._data[ref] = AESGCM(self._unwrap(ref, found.value))

    async def ready(self, values: Iterable[dict[str, Any] | None]) -> None:
        """Load every data key that sealed one of these store values."""
        await self.load(ref for value in values if (ref := _ref_of(value)) is not None)

    async def shred(self, owner: str) -> int:
        """Destroy every data key of `owner`: what they sealed, wherever a copy of it lies,
        opens no more. Returns how many keys went."""
        label = owner_label(owner)
        found = await self._store().asearch((KEYS_ROOT, label), limit=1000)
        for item in found:
            await self._store().adelete((KEYS_ROOT, label), item.key)
        for ref in [ref for ref in self._data if ref.label == label]:
            self._data.pop(ref, None)
            self._gone[ref] = True
        return len(found)

    def is_current(self, ciphername: str) -> bool:
        """Whether a ciphertext's name says it is sealed with a data key or the current master
        key (so a master-key rotation has nothing to do for it)."""
        return DataKeyRef.parse(ciphername) is not None or ciphername == f"aesgcm-{self._primary}"

    def reseal(self, ciphername: str, ciphertext: bytes) -> tuple[str, bytes] | None:
        """A master-sealed ciphertext sealed again with the current master key; None when it
        is sealed with a data key or the current master key already. Raises ValueError when no
        configured key opens it."""
        if self.is_current(ciphername):
            return None
        try:
            plaintext = self._master_decrypt(ciphername, ciphertext)
        except InvalidTag:
            raise ValueError(f"a value sealed with key {ciphername} does not open") from None
        return self._master_encrypt(plaintext)

    def reseal_value(self, value: dict[str, Any]) -> dict[str, Any] | None:
        """A store value sealed with an older master key, sealed with the current one; None
        for any other value (plain, sealed with a data key, or current already)."""
        sealed = value.get(SEALED)
        if not isinstance(sealed, str):
            return None
        name, _, data = sealed.partition(":")
        resealed = self.reseal(name, base64.b64decode(data))
        return None if resealed is None else _envelope(*resealed)

    async def _key_rows(self, offset: int, limit: int) -> list[Any]:
        return await self._store().asearch((KEYS_ROOT,), limit=limit, offset=offset)

    def _check_row(self, label: str, kid: str, row: dict[str, Any], only_current: bool) -> None:
        name = str(row.get("wrapped", "")).partition(":")[0]
        key_id = name.removeprefix("aesgcm-")
        if key_id not in self._keys or (only_current and key_id != self._primary):
            raise ValueError(f"data key {kid} is wrapped with key {key_id}, not a configured one")
        self._unwrap(DataKeyRef(label, kid), row)

    async def check_wrapped(
        self, sample: int = 100, *, everything: bool = False, only_current: bool = False
    ) -> int:
        """Unwrap the newest `sample` wrapped data keys, pages of `sample` at offsets doubling
        from there (`sample`, 2 `sample`, 4 `sample`...), and the oldest `sample`, all of them
        with `everything`: a master key that opens only some keys is found before anyone is
        answered (keys are re-wrapped as they are used and by rotation, so those still under a
        retired master key are the least recently written). About 2 log2(n / sample) reads.
        `only_current`: every key checked must be wrapped with the current master key.
        Returns how many were checked. Raises ValueError naming the first that does not open."""
        checked, offset, seen, full_to = 0, 0, set(), 0
        while True:
            rows = await self._key_rows(offset, sample)
            for item in rows:
                self._check_row(item.namespace[-1], item.key, item.value, only_current)
            checked += len(rows)
            seen.add(offset)
            if len(rows) < sample:
                break
            full_to = offset + sample  # rows exist up to here
            offset = offset + sample if everything or offset == 0 else offset * 2
        if everything:
            return checked
        total = offset + len(rows)
        if not rows:  # past the end: it lies between the last full page and here
            low, high = full_to, offset
            while low < high:
                middle = (low + high) // 2
                if await self._key_rows(middle, 1):
                    low = middle + 1
                else:
                    high = middle
            total = low
        oldest = max(0, total - sample)
        if oldest not in seen:
            for item in await self._key_rows(oldest, sample):
                self._check_row(item.namespace[-1], item.key, item.value, only_current)
                checked += 1
        return checked

    def rewrapped(self, label: str, kid: str, row: dict[str, Any]) -> dict[str, Any] | None:
        """A stored wrapped-key row (under ("keys", label), key `kid`) wrapped again with the
        current master key; None when it is already. The data key itself is unchanged. Raises
        ValueError when no configured master key opens it."""
        if str(row.get("wrapped", "")).startswith(f"aesgcm-{self._primary}:"):
            return None
        ref = DataKeyRef(label, kid)
        return self._wrapped_row(ref, self._unwrap(ref, row), float(row.get("at", 0)))

    def seal_with(self, ref: DataKeyRef, value: dict[str, Any]) -> dict[str, Any]:
        """A store value sealed with the data key `ref` (from `data_key`)."""
        return _envelope(ref.name, self._data_encrypt(ref, _dump(value)))

    def _data_encrypt(self, ref: DataKeyRef, plaintext: bytes) -> bytes:
        key = self._data.get(ref)
        if key is None:
            raise KeyNotLoaded(ref)
        nonce = os.urandom(12)
        return nonce + key.encrypt(nonce, plaintext, ref.aad)

    # CipherProtocol: checkpoint blobs are sealed with the data key of the conversation being
    # written (SEALING_WITH), with the master key outside one.
    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        ref = SEALING_WITH.get()
        if ref is None:
            return self._master_encrypt(plaintext)
        return ref.name, self._data_encrypt(ref, plaintext)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        ref = DataKeyRef.parse(ciphername)
        if ref is None:
            return self._master_decrypt(ciphername, ciphertext)
        key = self._data.get(ref)
        if key is None:
            if ref in self._gone:
                raise KeyGone(f"sealed with data key {ref.kid}, destroyed when it was forgotten")
            raise KeyNotLoaded(ref)
        return key.decrypt(ciphertext[:12], ciphertext[12:], ref.aad)


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _envelope(name: str, data: bytes) -> dict[str, Any]:
    return {SEALED: f"{name}:{base64.b64encode(data).decode()}"}


def _ref_of(value: dict[str, Any] | None) -> DataKeyRef | None:
    sealed = value.get(SEALED) if value else None
    if not isinstance(sealed, str):
        return None
    return DataKeyRef.parse(sealed.partition(":")[0])
