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
  a backup are retired by rotating the master key (`memory.storage.rotation`) and discarding the
  old.

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
# Where `bot memory rotate-key` records the id of the master key it sealed everything with.
CURRENT_MASTER = (("sealing",), "master")
# Unwrapped data keys kept in memory (32 bytes each), and labels/ids known to be destroyed.
KEY_CACHE = 50_000
# Wrapped-key rows read per page by the start-up check (about 150 bytes each).
KEY_CHECK_PAGE = 2_000


class Sealer(Protocol):
    """Seals a stored value before it is written and opens it after it is read."""

    def seal(self, value: dict[str, Any]) -> dict[str, Any]:
        """The value as stored: `{SEALED: "<key name>:<base64>"}`, or as given when plain."""

    def open(self, value: dict[str, Any]) -> dict[str, Any]:
        """The value as written. Raises ValueError (KeyGone when its key was destroyed)."""


class ValueSwap(Protocol):
    """Compare-and-swap of one store row, which the store API lacks (the storage layer
    provides it over its own tables)."""

    async def __call__(
        self, namespace: tuple[str, ...], key: str, old: dict[str, Any], new: dict[str, Any]
    ) -> bool:
        """Store `new` at (namespace, key) if the stored value is still `old` (as the store
        returned it), marking the row as just written; False when it changed or is gone."""
        ...


class KeyUnavailable(ValueError):
    """Sealed or wrapped with a master key this process does not hold (or whose id matches
    but which does not open it): unreadable until the settings name that key. The message is
    one line naming key ids only, never what was sealed."""

    def __init__(self, message: str, key_id: str) -> None:
        super().__init__(message)
        self.key_id = key_id


def unopenable(error: BaseException) -> str | None:
    """The one-line reason when `error` (or what caused it) is a KeyUnavailable, else None:
    for a log line or a report in place of a traceback."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, KeyUnavailable):
            return str(current)
        current = current.__cause__ or current.__context__
    return None


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
        """`dk1-<label>-<kid>`: the key name written at the head of what this key sealed."""
        return f"{DATA_KEY_PREFIX}-{self.label}-{self.kid}"

    @property
    def aad(self) -> bytes:
        """Associated data bound into every ciphertext of this key (AES-GCM)."""
        # Bound into every ciphertext: a blob cannot be passed off as another owner's.
        return f"{DATA_KEY_PREFIX}:{self.label}:{self.kid}".encode()

    @classmethod
    def parse(cls, name: str) -> DataKeyRef | None:
        """The reference a key name stands for; None for a master key's name."""
        prefix, _, rest = name.partition("-")
        label, _, kid = rest.partition("-")
        if prefix != DATA_KEY_PREFIX or not label or not kid:
            return None
        return cls(label, kid)


# The data key that checkpoint writes in this context seal with (set by memory.storage.checkpoints).
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
        """Sealer.seal without a key: the value as given."""
        return value

    def open(self, value: dict[str, Any]) -> dict[str, Any]:
        """Sealer.open without a key. Raises ValueError for a sealed value."""
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
            raise KeyUnavailable(f"no key for ciphertext sealed with key {key_id}", key_id)
        return self._keys[key_id].decrypt(ciphertext[:12], ciphertext[12:], aad)

    # CipherProtocol, for LangGraph's EncryptedSerializer (checkpoints).
    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        """LangGraph's CipherProtocol: (cipher name, ciphertext) under the master key."""
        return self._master_encrypt(plaintext)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        """LangGraph's CipherProtocol: the plaintext. Raises ValueError for a foreign key."""
        return self._master_decrypt(ciphername, ciphertext)

    # Store values.
    def seal(self, value: dict[str, Any]) -> dict[str, Any]:
        """Sealed with the master key."""
        name, data = self._master_encrypt(_dump(value))
        return _envelope(name, data)

    def open(self, value: dict[str, Any]) -> dict[str, Any]:
        """Sealer.open: a plain value (written before encryption) comes back as it is."""
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
                await self.check_may_wrap()
                at = float(newest.value.get("at", 0))
                if self.swap is None:
                    await self._put_key(ref, material, at)
                else:
                    row = self._wrapped_row(ref, material, at)
                    await self.swap((KEYS_ROOT, label), ref.kid, newest.value, row)
            return ref
        await self.check_may_wrap()
        ref = DataKeyRef(label, secrets.token_hex(8))
        material = AESGCM.generate_key(bit_length=256)
        await self._put_key(ref, material, time.time())
        self._data[ref] = AESGCM(material)
        return ref

    async def check_may_wrap(self) -> None:
        """Raise KeyUnavailable when `bot memory rotate-key` recorded a master key this
        process does not hold: it runs on replaced settings, and a data key it wrapped would
        open for no process on the current ones (one read, only when a key is wrapped)."""
        namespace, key = CURRENT_MASTER
        found = await self._store().aget(namespace, key)
        current = str(found.value.get("current", "")) if found is not None else ""
        if current and current not in self._keys:
            raise KeyUnavailable(
                f"stored memory was moved to master key {current} by rotate-key, which this "
                "process does not hold: restart it with the current MEMORY_ENCRYPTION_KEY",
                current,
            )

    async def record_current(self) -> None:
        """Record this ring's master key as the current one (see `check_may_wrap`)."""
        namespace, key = CURRENT_MASTER
        row = {"current": self._primary, "at": time.time()}
        await self._store().aput(namespace, key, row, index=False)

    def _wrapped_row(self, ref: DataKeyRef, material: bytes, at: float) -> dict[str, Any]:
        name, wrapped = self._master_encrypt(material, ref.aad)
        return {"wrapped": f"{name}:{base64.b64encode(wrapped).decode()}", "at": at}

    async def _put_key(self, ref: DataKeyRef, material: bytes, at: float) -> None:
        row = self._wrapped_row(ref, material, at)
        await self._store().aput((KEYS_ROOT, ref.label), ref.kid, row, index=False)

    def _unwrap(self, ref: DataKeyRef, row: dict[str, Any]) -> bytes:
        name, _, data = str(row.get("wrapped", "")).partition(":")
        key_id = name.removeprefix("aesgcm-")
        if key_id not in self._keys:
            raise KeyUnavailable(
                f"no key for data key {ref.kid}: wrapped with key {key_id}, not a configured one",
                key_id,
            )
        try:
            return self._master_decrypt(name, base64.b64decode(data), ref.aad)
        except InvalidTag:
            raise KeyUnavailable(
                f"data key {ref.kid} does not open with the configured key {key_id}", key_id
            ) from None

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

    def _check_header(self, kid: str, row: dict[str, Any], only_current: bool) -> None:
        key_id = str(row.get("wrapped", "")).partition(":")[0].removeprefix("aesgcm-")
        if key_id not in self._keys or (only_current and key_id != self._primary):
            raise KeyUnavailable(
                f"data key {kid} is wrapped with key {key_id}, not a configured one", key_id
            )

    async def check_wrapped(
        self,
        sample: int = 100,
        *,
        everything: bool = False,
        only_current: bool = False,
        page: int = KEY_CHECK_PAGE,
    ) -> int:
        """Every wrapped data key's header names a configured master key (read, not
        decrypted: a key id is a hash of the key, so a configured id is the configured key),
        and the newest `sample` keys (all of them with `everything`) unwrap with it: a master
        key that opens only some keys is found before anyone is answered, wherever in the
        store the keys it cannot open lie. Reads the key table in pages of `page` rows (see
        bench/key_check.py for the cost). `only_current`: every key must be wrapped with the
        current master key. Returns how many keys were checked. Raises KeyUnavailable (a
        ValueError) naming the first that does not open."""
        checked, offset = 0, 0
        while rows := await self._key_rows(offset, page):
            for item in rows:
                self._check_header(item.key, item.value, only_current)
                if everything or checked < sample:
                    self._unwrap(DataKeyRef(item.namespace[-1], item.key), item.value)
                checked += 1
            if len(rows) < page:
                break
            offset += len(rows)
        return checked

    def rewrapped(self, label: str, kid: str, row: dict[str, Any]) -> dict[str, Any] | None:
        """A stored wrapped-key row (under ("keys", label), key `kid`) wrapped again with the
        current master key; None when it is already. The data key itself is unchanged. Raises
        ValueError when no configured master key opens it."""
        if str(row.get("wrapped", "")).startswith(f"aesgcm-{self._primary}:"):
            return None
        ref = DataKeyRef(label, kid)
        return self._wrapped_row(ref, self._unwrap(ref, row), float(row.get("at", 0)))

    def master_plaintext(self, ciphername: str, ciphertext: bytes) -> bytes | None:
        """What a ciphertext sealed with a master key (current or old) holds; None when it is
        sealed with a data key. Raises KeyUnavailable when no configured key opens it."""
        if DataKeyRef.parse(ciphername) is not None:
            return None
        try:
            return self._master_decrypt(ciphername, ciphertext)
        except InvalidTag:
            key_id = ciphername.removeprefix("aesgcm-")
            raise KeyUnavailable(
                f"a value sealed with key {key_id} does not open", key_id
            ) from None

    async def to_data_key(self, owner: str, value: dict[str, Any]) -> dict[str, Any] | None:
        """A store value that is plain or sealed with a master key, sealed with `owner`'s data
        key instead; None when a data key seals it already. Raises KeyUnavailable when no
        configured key opens it."""
        sealed = value.get(SEALED)
        plain = value
        if isinstance(sealed, str):
            name, _, data = sealed.partition(":")
            opened = self.master_plaintext(name, base64.b64decode(data))
            if opened is None:
                return None
            plain = json.loads(opened)
        return self.seal_with(await self.data_key(owner), plain)

    def seal_bytes_with(self, ref: DataKeyRef, plaintext: bytes) -> tuple[str, bytes]:
        """Bytes sealed with the data key `ref` (loaded): (cipher name, ciphertext), as the
        checkpoint serializer stores them."""
        return ref.name, self._data_encrypt(ref, plaintext)

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
        """CipherProtocol: under this context's data key (SEALING_WITH), else the master key."""
        ref = SEALING_WITH.get()
        if ref is None:
            return self._master_encrypt(plaintext)
        return ref.name, self._data_encrypt(ref, plaintext)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        """CipherProtocol: opens with the named data or master key. Raises KeyGone, ValueError."""
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
