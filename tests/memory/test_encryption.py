"""With a key set, no memory text or message text is readable anywhere in the database, and
forget all destroys the person's data keys, so copies of their rows open no more."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.store.memory import InMemoryStore

from bot.storage import Storage, open_storage
from memory.commands.results import ForgetAllReceipt, ShowResult
from memory.commands.verbs import parse_command
from memory.engine import MemoryEngine
from memory.storage.sealing import (
    SCRYPT_SALT,
    AesGcmSealer,
    KeyGone,
    KeyNotLoaded,
    KeyRing,
    derive_key,
)
from tests.conftest import MANUAL, engine_on, unique
from tests.memory.helpers import channel, dm, person, say
from tests.memory.scan import places_holding
from tests.rules import memory_script
from tests.scripted_model import ScriptedChatModel

SECRET_WORDS = ["zebracorn", "quokkaberry"]
KEY = "correct horse battery staple"


@pytest.fixture
async def sealed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Storage, MemoryEngine, str]]:
    sealer = KeyRing(KEY)
    admin = request.getfixturevalue("postgres_url") if backend == "postgres" else ""
    url, name = "", ""
    if admin:  # a database of its own, so the scan sees only this test's rows
        name = f"sealed_{unique('db')}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        async with open_storage(url, tmp_path / "data", sealer=sealer) as storage:
            engine = engine_on(
                storage, ScriptedChatModel(script=memory_script), config=MANUAL, sealer=sealer
            )
            yield storage, engine, url
            await engine.scheduler.close()
    finally:
        if name:  # dropped, so test runs leave no databases behind
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _plain_hits_postgres(url: str) -> list[str]:
    hits = []
    needles = [w.encode() for w in SECRET_WORDS]
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        for table in tables:
            # Every row as text (bytea shows as hex), searched for the words and their hex.
            for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t').fetchall():
                for needle in needles:
                    if needle.decode() in row or needle.hex() in row:
                        hits.append(f"{table}: {row[:120]}")
    return hits


def _plain_hits_sqlite(data: Path) -> list[str]:
    hits = []
    for path in data.iterdir():
        content = path.read_bytes()
        hits.extend(f"{path.name}" for w in SECRET_WORDS if w.encode() in content)
    return hits


async def test_no_plain_text_in_any_table(
    sealed: tuple[Storage, MemoryEngine, str], tmp_path: Path
) -> None:
    storage, engine, url = sealed
    alice = person(unique("alice"))
    await engine.reply(say(alice, dm(alice), "Remember that my locker word is zebracorn"))
    await engine.reply(say(alice, channel(unique("room")), "Remember that I like quokkaberry pie"))
    await engine.reply(say(alice, dm(alice), "Remind me to feed the zebracorn"))
    await engine.learn_now(alice.key)
    await engine.reply(say(alice, dm(alice), "Remember that zebracorn is fine"))  # left pending

    shown = await engine.run_command(alice, parse_command("show"))
    assert isinstance(shown, ShowResult)
    assert any("zebracorn" in v.text for v in shown.facts)  # readable through the bot...
    history = await engine.run_command(alice, parse_command("history"))
    assert "zebracorn" in history.as_text()

    if storage.kind == "postgres":  # ...and nowhere in the database
        hits = _plain_hits_postgres(url)
    else:
        await engine.scheduler.close()
        hits = _plain_hits_sqlite(tmp_path / "data")
    assert hits == []


def test_a_rotated_key_still_opens_what_the_old_key_sealed() -> None:
    old = AesGcmSealer("old key")
    sealed = old.seal({"content": "I keep bees"})
    assert "bees" not in str(sealed)

    rotated = AesGcmSealer("new key", old_secrets=("old key",))
    assert rotated.open(sealed) == {"content": "I keep bees"}
    resealed = rotated.seal({"content": "I keep bees"})
    with pytest.raises(ValueError, match="no key"):
        old.open(resealed)


def _stored_rows(storage: Storage, url: str, data: Path, person_key: str) -> list[dict[str, Any]]:
    """Every store value under the person's prefix, as it lies in the database."""
    prefix = f"users.{person_key}."
    if storage.kind == "postgres":
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT value::text FROM store WHERE prefix LIKE %s", (prefix + "%",)
            ).fetchall()
    else:
        with sqlite3.connect(data / "memory.sqlite") as conn:
            rows = conn.execute(
                "SELECT value FROM store WHERE prefix LIKE ?", (prefix + "%",)
            ).fetchall()
    return [json.loads(value) for (value,) in rows]


def _checkpoint_blobs(
    storage: Storage, url: str, data: Path, thread: str
) -> list[tuple[str, bytes]]:
    """Every serialized (type, bytes) pair stored for the thread, as it lies in the database."""
    if storage.kind == "postgres":
        queries = [
            "SELECT type, blob FROM checkpoint_blobs WHERE thread_id = %s",
            "SELECT type, blob FROM checkpoint_writes WHERE thread_id = %s",
        ]
        with psycopg.connect(url) as conn:
            rows = [r for q in queries for r in conn.execute(q, (thread,)).fetchall()]
    else:
        queries = [
            "SELECT type, checkpoint FROM checkpoints WHERE thread_id = ?",
            "SELECT type, value FROM writes WHERE thread_id = ?",
        ]
        with sqlite3.connect(data / "checkpoints.sqlite") as conn:
            rows = [r for q in queries for r in conn.execute(q, (thread,)).fetchall()]
    return [(str(kind), bytes(blob)) for kind, blob in rows if blob is not None]


async def _opens(keys: KeyRing, value: dict[str, Any]) -> bool:
    try:
        await keys.ready([value])
        keys.open(value)
    except KeyGone:
        return False
    return True


async def _blob_opens(keys: KeyRing, blob: tuple[str, bytes]) -> bool:
    serde = EncryptedSerializer(keys)
    for _ in range(3):
        try:
            serde.loads_typed(blob)
            return True
        except KeyNotLoaded as missing:
            await keys.load([missing.ref])
        except KeyGone:
            return False
    raise AssertionError("the blob's key never loaded")


async def test_forget_all_leaves_copies_that_no_key_opens(
    sealed: tuple[Storage, MemoryEngine, str], tmp_path: Path
) -> None:
    storage, engine, url = sealed
    data = tmp_path / "data"
    alice, bob = person(unique("alice")), person(unique("bob"))
    room = channel(unique("room"))
    await engine.reply(say(alice, dm(alice), "Remember that my locker word is zebracorn"))
    await engine.reply(say(alice, room, "Remember that I like quokkaberry pie"))
    await engine.reply(say(bob, room, "Remember that I like plain toast"))
    await engine.learn_now(alice.key)
    await engine.reply(say(alice, dm(alice), "Remember that zebracorn is fine"))  # pending

    # Copied aside before forget all, as a backup or a WAL segment would hold them.
    rows = [
        row
        for row in _stored_rows(storage, url, data, alice.key)
        if "sealed" in row and not _is_master_sealed(row)
    ]
    dm_blobs = [b for b in _checkpoint_blobs(storage, url, data, dm(alice).key) if "+" in b[0]]
    room_blobs = [b for b in _checkpoint_blobs(storage, url, data, room.key) if "+" in b[0]]
    assert len(rows) >= 5 and dm_blobs and room_blobs
    before = KeyRing(KEY, store=storage.store)  # a fresh process with the master key
    assert all([await _opens(before, row) for row in rows])
    assert all([await _blob_opens(before, blob) for blob in dm_blobs + room_blobs])
    wrapped = [item.value["wrapped"] for item in await storage.store.asearch(("keys",), limit=100)]

    receipt = await engine.run_command(alice, parse_command("forget all confirm"))
    assert isinstance(receipt, ForgetAllReceipt)

    after = KeyRing(KEY, store=storage.store)
    assert [await _opens(after, row) for row in rows] == [False] * len(rows)
    assert [await _blob_opens(after, b) for b in dm_blobs] == [False] * len(dm_blobs)
    assert [await _blob_opens(after, b) for b in room_blobs] == [False] * len(room_blobs)
    # The shared thread, re-keyed, still holds Bob's turn and opens with its new key.
    state = await engine.graph.aget_state({"configurable": {"thread_id": room.key}})
    texts = [m.text for m in state.values["messages"]]
    assert any("plain toast" in t for t in texts) and not any("quokkaberry" in t for t in texts)

    # The destroyed keys' wrapped bytes are nowhere in the database (nor the SQLite files).
    remaining = {
        item.value["wrapped"] for item in await storage.store.asearch(("keys",), limit=100)
    }
    destroyed = [w for w in wrapped if w not in remaining]
    assert len(destroyed) >= 3  # Alice's, her DM's and the room's first key
    for needle in destroyed:
        if storage.kind == "postgres":
            assert places_holding(storage, needle, url=url, data_dir=data) == []
        else:
            for path in data.iterdir():
                assert needle.encode() not in path.read_bytes(), path.name

    # She starts again under a fresh key.
    await engine.reply(say(alice, dm(alice), "Remember that my locker word is moonpetal"))
    await engine.learn_now(alice.key)
    shown = await engine.run_command(alice, parse_command("show"))
    assert isinstance(shown, ShowResult) and any("moonpetal" in v.text for v in shown.facts)


def _is_master_sealed(row: dict[str, Any]) -> bool:
    return str(row["sealed"]).startswith("aesgcm-")


# scrypt(N=2^15, r=8, p=1) of KEY with memory.storage.sealing.SCRYPT_SALT: pinned, because data
# sealed
# under it must open with whatever a later version derives from the same passphrase.
KEY_DERIVED = "087f6d67fa139077db3ac8b2e19e46d7ee4d91a889c94972c112916c3d77c804"


def test_the_passphrase_derivation_is_pinned() -> None:
    assert derive_key(KEY).hex() == KEY_DERIVED
    # The same figure from the standard library's own scrypt (OpenSSL's, called directly).
    expected = hashlib.scrypt(
        KEY.encode(), salt=SCRYPT_SALT, n=2**15, r=8, p=1, maxmem=64 * 2**20, dklen=32
    )
    assert expected.hex() == KEY_DERIVED


def _legacy_blob(secret: str, value: dict[str, Any]) -> dict[str, Any]:
    """A value sealed as earlier versions did: AES-GCM under SHA-256(passphrase)."""
    key = hashlib.sha256(secret.encode()).digest()
    key_id = hashlib.sha256(b"key-id" + key).hexdigest()[:8]
    nonce = os.urandom(12)
    data = nonce + AESGCM(key).encrypt(nonce, json.dumps(value).encode(), None)
    return {"sealed": f"aesgcm-{key_id}:{base64.b64encode(data).decode()}"}


def test_values_sealed_with_the_former_sha256_key_still_open() -> None:
    legacy = _legacy_blob(KEY, {"content": "I keep bees"})
    keys = KeyRing(KEY)
    assert keys.open(legacy) == {"content": "I keep bees"}
    resealed = keys.seal({"content": "I keep bees"})
    assert resealed["sealed"].split(":")[0] != legacy["sealed"].split(":")[0]
    assert keys.open(resealed) == {"content": "I keep bees"}
    # An old key in MEMORY_ENCRYPTION_OLD_KEYS opens its legacy blobs too.
    assert KeyRing("new key", ("old key",)).open(_legacy_blob("old key", {"a": 1})) == {"a": 1}
    with pytest.raises(ValueError, match="no key"):
        KeyRing("another key").open(legacy)


async def test_a_rotated_master_key_rewraps_data_keys_as_they_are_used() -> None:
    store = InMemoryStore()
    old = KeyRing("old key", store=store)
    ref = await old.data_key("person:alice")
    sealed = old.seal_with(ref, {"content": "I keep bees"})

    rotated = KeyRing("new key", ("old key",), store=store)
    assert await rotated.data_key("person:alice") == ref  # the same data key, re-wrapped

    alone = KeyRing("new key", store=store)  # the old key retired
    await alone.ready([sealed])
    assert alone.open(sealed) == {"content": "I keep bees"}
    with pytest.raises(ValueError, match="no key"):
        await KeyRing("old key", store=store).ready([sealed])
